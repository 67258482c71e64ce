"""What every command needs: the settings, the database migrated, a Redis, a session."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

import click

from dialer.config import Settings, get_settings
from dialer.startup import startup_warnings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")

__all__ = [
    "in_session",
    "load_settings",
    "port_free",
    "redis_for",
    "require_redis",
    "upgrade_if_embedded",
    "warn_at_start",
]


def port_free(host: str, port: int) -> None:
    """A one-line refusal for a port something else holds, before anything starts."""
    with socket.socket() as probe:
        # As the server itself will: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}): choose another with --port"
            ) from exc


def warn_at_start(settings: Settings) -> None:
    """Say, loudly and first, what in the settings cannot work."""
    for warning in startup_warnings(settings):
        click.secho(f"WARNING: {warning}", err=True, fg="yellow", bold=True)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def upgrade_if_embedded(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        from dialer.migrations import upgrade_to_head

        upgrade_to_head(settings.database_url)


@contextlib.contextmanager
def redis_for(settings: Settings) -> Iterator[str]:
    """DIALER_REDIS_URL if set, else a redis-server of our own for as long as we run."""
    if settings.redis_url:
        yield settings.redis_url
        return
    from dialer.redis_embedded import EmbeddedRedis

    with EmbeddedRedis() as embedded:
        yield embedded.url


def require_redis(settings: Settings) -> str:
    if not settings.redis_url:
        raise click.ClickException(
            "DIALER_REDIS_URL is not set: use `dialer up` for an embedded Redis"
        )
    return settings.redis_url


async def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from dialer.db import make_async_engine, make_sessionmaker, session_scope

    engine = make_async_engine(settings.async_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()
