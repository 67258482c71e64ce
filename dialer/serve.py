"""Running the web app, arq workers and the sandbox together in one event loop (`up`, `demo`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import httpx
import uvicorn
from arq import Worker
from starlette.types import ASGIApp

from dialer.app import create_app
from dialer.config import Settings
from dialer.sandbox import SandboxConfig, create_sandbox_app
from dialer.workers import make_worker, shutdown_grace_s

__all__ = [
    "Services",
    "free_port",
    "free_ports",
    "running_server",
    "running_services",
    "running_worker",
]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: every socket stays bound until all are chosen."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    return free_ports(1)[0]


class _OwnedServer(uvicorn.Server):
    """A server that leaves signals to whoever runs it: several share one loop here."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_server(app: ASGIApp, host: str, port: int) -> AsyncIterator[uvicorn.Server]:
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
    )
    server = _OwnedServer(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"server on {host}:{port} stopped at start-up")
        await asyncio.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def running_worker(settings: Settings, redis_url: str) -> AsyncIterator[Worker]:
    worker = make_worker(settings, redis_url, handle_signals=False)
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        # As on SIGTERM: take no new job, let running ones finish, then stop.
        worker.allow_pick_jobs = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_drained(worker), shutdown_grace_s(settings))
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()


async def _drained(worker: Worker) -> None:
    while worker.tasks:  # noqa: ASYNC110  (arq offers no event; it polls this dict itself)
        await asyncio.sleep(0.05)


@dataclass
class Services:
    web_url: str
    sandbox_url: str | None
    workers: list[Worker] = field(default_factory=list)


@contextlib.asynccontextmanager
async def running_services(
    settings: Settings,
    redis_url: str,
    *,
    host: str,
    port: int,
    workers: int = 1,
    sandbox: SandboxConfig | None = None,
    sandbox_port: int | None = None,
) -> AsyncIterator[Services]:
    async with contextlib.AsyncExitStack() as stack:
        sandbox_url = None
        if sandbox is not None:
            sport = sandbox_port or free_port()
            await stack.enter_async_context(
                running_server(create_sandbox_app(sandbox), "127.0.0.1", sport)
            )
            sandbox_url = f"http://127.0.0.1:{sport}"
        await stack.enter_async_context(running_server(create_app(settings, redis_url), host, port))
        services = Services(web_url=f"http://{host}:{port}", sandbox_url=sandbox_url)
        for _ in range(workers):
            services.workers.append(
                await stack.enter_async_context(running_worker(settings, redis_url))
            )
        async with httpx.AsyncClient() as client:
            (await client.get(f"{services.web_url}/healthz")).raise_for_status()
        yield services
