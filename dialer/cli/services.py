"""`dialer up`, `web`, `worker`, `sandbox` and `demo`: the processes the dialer runs as."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

import click
import uvicorn
from pydantic import SecretStr

from dialer.cli.shared import (
    load_settings,
    port_free,
    redis_for,
    require_redis,
    upgrade_if_embedded,
    warn_at_start,
)
from dialer.config import Settings
from dialer.logs import fields, settings_summary
from dialer.startup import serving_url

if TYPE_CHECKING:
    from dialer.sandbox import SandboxConfig

__all__ = ["demo", "sandbox", "up", "web", "worker"]

log = logging.getLogger(__name__)


def _started(process: str, settings: Settings, **more: object) -> None:
    summary = {**settings_summary(settings), **more}
    shown = ", ".join(f"{k} {v}" for k, v in summary.items())
    log.info("dialer %s starting: %s", process, shown, extra=fields(process=process, **summary))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="arq workers in this process.")
@click.option(
    "--sandbox",
    "with_sandbox",
    is_flag=True,
    help="Run the provider simulator in this process and send every call and text to it "
    "(development only).",
)
@click.option(
    "--time-scale", default=0.05, show_default=True, help="The sandbox's clock (with --sandbox)."
)
def up(host: str, port: int, workers: int, with_sandbox: bool, time_scale: float) -> None:
    """Web (the API and the console) and worker together; embedded Redis and SQLite unless
    configured."""
    from dialer.serve import free_port, running_services

    port_free(host, port)
    settings = serving_url(load_settings(), host, port)
    sandbox: SandboxConfig | None = None
    sandbox_port: int | None = None
    if with_sandbox:
        if settings.env == "production":
            raise click.UsageError("--sandbox is for development: DIALER_ENV is production")
        sandbox_port = free_port()
        settings, sandbox = _on_sandbox(settings, sandbox_port, time_scale)
    warn_at_start(settings)
    upgrade_if_embedded(settings)

    async def serve(redis_url: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running_services(
            settings,
            redis_url,
            host=host,
            port=port,
            workers=workers,
            sandbox=sandbox,
            sandbox_port=sandbox_port,
        ) as services:
            click.echo(f"dialer up: API at {services.web_url}, {workers} worker(s); Ctrl-C stops")
            click.echo(
                f"console at {services.web_url}/: sign in with a key from `dialer apikey create`"
            )
            if services.sandbox_url:
                click.echo(f"every call and text goes to the sandbox at {services.sandbox_url}")
            _started("up", settings, api=services.web_url, workers=workers)
            await stop.wait()

    with redis_for(settings) as redis_url:
        asyncio.run(serve(redis_url))


def _sandbox_config(settings: Settings, **knobs: Any) -> SandboxConfig:
    """A sandbox that takes the credentials these settings send (its own where they have
    none)."""
    from dialer.sandbox import SandboxConfig

    config = SandboxConfig(
        sid=settings.xoxzo_sid, auth_token=settings.xoxzo_auth_token.get_secret_value(), **knobs
    )
    if settings.voxology_api_key is not None:
        config.voxology_api_key = settings.voxology_api_key.get_secret_value()
    if settings.voxology_basic_auth is not None:
        config.voxology_basic_auth = settings.voxology_basic_auth.get_secret_value()
    return config


def _on_sandbox(
    settings: Settings, sandbox_port: int, time_scale: float
) -> tuple[Settings, SandboxConfig]:
    """Settings that send both providers' requests to a sandbox on this port, and its config
    (it takes the credentials the settings have, or its own where they have none)."""
    config = _sandbox_config(settings, time_scale=time_scale)
    url = f"http://127.0.0.1:{sandbox_port}"
    moved = settings.model_copy(
        update={
            "xoxzo_api_url": url,
            "voxology_api_url": f"{url}/v1",
            "voxology_api_key": SecretStr(config.voxology_api_key),
            "voxology_basic_auth": SecretStr(config.voxology_basic_auth),
        }
    )
    return moved, config


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def web(host: str, port: int) -> None:
    """The REST API and provider callbacks (needs DIALER_REDIS_URL)."""
    from dialer.app import create_app

    port_free(host, port)
    settings = serving_url(load_settings(), host, port)
    warn_at_start(settings)
    app = create_app(settings, require_redis(settings))
    _started("web", settings, api=f"http://{host}:{port}")
    # log_config=None: uvicorn's own lines go through ours (and JSON when asked).
    uvicorn.run(app, host=host, port=port, log_config=None)


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """An arq worker (needs DIALER_REDIS_URL)."""
    from dialer.workers import make_worker

    settings = load_settings()
    warn_at_start(settings)
    redis_url = require_redis(settings)
    _started("worker", settings)
    make_worker(settings, redis_url, burst=burst).run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    help="Provider seconds per real second; 0.01 rings for 1/100 of the time.",
)
@click.option("--rate", default=0.0, show_default=True, help="Requests/s before 429; 0: none.")
@click.option("--balance", default=10_000.0, show_default=True, help="Starting credits.")
@click.option(
    "--min-credits",
    default=50.0,
    show_default=True,
    help="Voice calls are refused (403) below this balance.",
)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--log-requests/--no-log-requests",
    default=True,
    show_default=True,
    help="A line for each request served.",
)
def sandbox(
    host: str,
    port: int,
    time_scale: float,
    rate: float,
    balance: float,
    min_credits: float,
    seed: int,
    log_requests: bool,
) -> None:
    """The provider simulator. Credentials: XOXZO_SID and XOXZO_AUTH_TOKEN, as the dialer's."""
    from dialer.sandbox import create_sandbox_app

    config = _sandbox_config(
        load_settings(),
        time_scale=time_scale,
        rate=rate,
        balance=balance,
        min_credits=min_credits,
        seed=seed,
    )
    url = f"http://{host}:{port}"
    log.info(
        "sandbox at %s: Xoxzo at %s/, Voxology at %s/v1, knobs at %s/_sandbox/knobs",
        url,
        url,
        url,
        url,
        extra=fields(process="sandbox", url=url, rate=rate, time_scale=time_scale),
    )
    if log_requests:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    app = create_sandbox_app(config)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=log_requests)


@click.command()
@click.option("--count", default=20, show_default=True)
@click.option("--time-scale", default=0.05, show_default=True)
@click.option(
    "--keep", is_flag=True, help="Leave the services running (and the console open) until Ctrl-C."
)
def demo(count: int, time_scale: float, keep: bool) -> None:
    """COUNT TTS calls and one of every other channel, then a CSV campaign of COUNT contacts,
    through the sandbox, all embedded; it prints the console's address and a key."""
    from dialer.demo import run_demo

    sys.exit(run_demo(count=count, time_scale=time_scale, keep=keep))
