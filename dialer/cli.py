"""The `dialer` command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import click
import uvicorn

from dialer.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")

__all__ = ["main"]


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade_if_embedded(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        from dialer.migrations import upgrade_to_head

        upgrade_to_head(settings.database_url)


@contextlib.contextmanager
def _redis_url(settings: Settings) -> Iterator[str]:
    """DIALER_REDIS_URL if set, else a redis-server of our own for as long as we run."""
    if settings.redis_url:
        yield settings.redis_url
        return
    from dialer.redis_embedded import EmbeddedRedis

    with EmbeddedRedis() as embedded:
        yield embedded.url


def _require_redis(settings: Settings) -> str:
    if not settings.redis_url:
        raise click.ClickException(
            "DIALER_REDIS_URL is not set: use `dialer up` for an embedded Redis"
        )
    return settings.redis_url


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """dialer: campaign and notification dialer for Xoxzo and Voxology."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="arq workers in this process.")
def up(host: str, port: int, workers: int) -> None:
    """Web and worker together; embedded Redis and SQLite unless configured."""
    from dialer.serve import running_services

    settings = _settings()
    _upgrade_if_embedded(settings)

    async def serve(redis_url: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running_services(
            settings, redis_url, host=host, port=port, workers=workers
        ) as services:
            click.echo(f"dialer up: API at {services.web_url}, {workers} worker(s); Ctrl-C stops")
            await stop.wait()

    with _redis_url(settings) as redis_url:
        asyncio.run(serve(redis_url))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def web(host: str, port: int) -> None:
    """The REST API and provider callbacks (needs DIALER_REDIS_URL)."""
    from dialer.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings, _require_redis(settings)), host=host, port=port)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """An arq worker (needs DIALER_REDIS_URL)."""
    from jobs.worker import make_worker

    settings = _settings()
    make_worker(settings, _require_redis(settings), burst=burst).run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    help="Provider seconds per real second; 0.01 rings for 1/100 of the time.",
)
@click.option("--rate", default=0.0, show_default=True, help="Requests/s before 429; 0: none.")
@click.option("--balance", default=1000.0, show_default=True, help="Starting credits.")
@click.option(
    "--min-credits",
    default=50.0,
    show_default=True,
    help="Voice calls are refused (403) below this balance.",
)
@click.option("--seed", default=1, show_default=True)
def sandbox(
    host: str,
    port: int,
    time_scale: float,
    rate: float,
    balance: float,
    min_credits: float,
    seed: int,
) -> None:
    """The provider simulator. Credentials: XOXZO_SID and XOXZO_AUTH_TOKEN, as the dialer's."""
    from dialer.sandbox import SandboxConfig, create_sandbox_app

    settings = _settings()
    config = SandboxConfig(
        sid=settings.xoxzo_sid,
        auth_token=settings.xoxzo_auth_token.get_secret_value(),
        time_scale=time_scale,
        rate=rate,
        balance=balance,
        min_credits=min_credits,
        seed=seed,
    )
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level="warning")


@main.command()
@click.option("--count", default=20, show_default=True)
@click.option("--time-scale", default=0.05, show_default=True)
def demo(count: int, time_scale: float) -> None:
    """COUNT TTS calls and one of every other channel through the sandbox, all embedded."""
    from dialer.demo import run_demo

    sys.exit(run_demo(count=count, time_scale=time_scale))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (alembic upgrade head)."""
    from dialer.migrations import upgrade_to_head

    upgrade_to_head(_settings().database_url)


@main.group()
def apikey() -> None:
    """API keys."""


async def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from dialer.db import make_async_engine, make_sessionmaker, session_scope

    engine = make_async_engine(settings.async_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@apikey.command("create")
@click.option("--name", default="default", show_default=True)
def apikey_create(name: str) -> None:
    """Create an API key and print it alone on stdout; it is shown only once."""
    from dialer.apikeys import create_api_key

    settings = _settings()
    _upgrade_if_embedded(settings)
    click.echo(asyncio.run(_in_session(settings, lambda s: create_api_key(s, name))))


@apikey.command("list")
def apikey_list() -> None:
    """The API keys: prefix, name, created, revoked. Keys themselves are not stored."""
    from dialer.apikeys import list_api_keys

    for key in asyncio.run(_in_session(_settings(), list_api_keys)):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        click.echo(f"{key.prefix}  {key.name}  {key.created_at:%Y-%m-%d %H:%M}  revoked: {revoked}")


@apikey.command("revoke")
@click.argument("prefix")
def apikey_revoke(prefix: str) -> None:
    """Revoke a key by its PREFIX, the part after `dk_` (see `apikey list`)."""
    from dialer.apikeys import revoke_api_key

    if asyncio.run(_in_session(_settings(), lambda s: revoke_api_key(s, prefix))) is None:
        raise click.ClickException(f"no API key with prefix {prefix!r}")
    click.echo(f"revoked {prefix}")
