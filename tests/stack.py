"""A deployment of real processes for end-to-end tests: the sandbox, the web app, and workers
started on demand, sharing a clock file the test can move."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis

from dialer import clock
from dialer.apikeys import create_api_key
from dialer.db import make_async_engine, make_sessionmaker, session_scope
from dialer.processes import DialerProcess
from dialer.serve import free_ports
from tests.support import UNPACED, ApiCalls

__all__ = ["Stack", "processes", "stack"]


@dataclass
class Stack(ApiCalls):
    env: dict[str, str]
    logdir: Path
    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    workers: list[DialerProcess] = field(default_factory=list)

    def move_clock(self, seconds: float) -> None:
        """Move every process's clock to `seconds` from the real time."""
        clock.set_offset(Path(self.env[clock.CLOCK_FILE_VARIABLE]), seconds)

    def start_worker(self, **env: str) -> DialerProcess:
        """A worker; `env` overrides the stack's settings for it alone."""
        name = f"worker{len(self.workers)}"
        worker = DialerProcess(name, ["worker"], {**self.env, **env}, self.logdir)
        self.workers.append(worker)
        return worker

    async def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = (await self.sandbox.get("/_sandbox/calls")).json()
        return calls

    async def knobs(self, **values: float) -> None:
        (await self.sandbox.post("/_sandbox/knobs", json=values)).raise_for_status()


async def _api_key(database_url: str) -> str:
    from dialer.config import to_driver_url

    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await create_api_key(session, "e2e")
    finally:
        await engine.dispose()


@pytest.fixture
def processes() -> Iterator[list[DialerProcess]]:
    started: list[DialerProcess] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
async def stack(
    database_url: str,
    redis: ArqRedis,
    redis_url: str,
    tmp_path: Path,
    processes: list[DialerProcess],
) -> AsyncIterator[Stack]:
    web_port, sandbox_port = free_ports(2)
    env = {
        "DIALER_ENV": "development",
        "DIALER_DATABASE_URL": database_url,
        "DIALER_REDIS_URL": redis_url,
        "DIALER_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "DIALER_SECRET_KEY": secrets.token_urlsafe(32),
        "XOXZO_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "XOXZO_SID": "e2e-sid",
        "XOXZO_AUTH_TOKEN": secrets.token_urlsafe(16),
        # Short clocks so that a killed worker's job is run again within seconds; a job still
        # outlasts a slot's wait and a request's (2.5 s each, and 1 s to record the answer).
        "DIALER_JOB_TIMEOUT_S": "6",
        "DIALER_PROVIDER_TIMEOUT_S": "2.5",
        "DIALER_POLL_INTERVAL_S": "0.5",
        "DIALER_AMBIGUOUS_AFTER_S": "2",
        "DIALER_RECONCILE_DEADLINE_S": "20",
        # Pacing has its own tests; here it must never be what a test waits for.
        "DIALER_PROVIDER_LIMITS": UNPACED.model_dump_json(),
        clock.CLOCK_FILE_VARIABLE: str(tmp_path / "clock"),
        "DIALER_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    # Credit is not what these runs test: enough for any size of campaign to start.
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--time-scale", "0.02"]
    sandbox = DialerProcess("sandbox", [*sandbox_args, "--balance", "1e9"], env, tmp_path)
    processes.append(sandbox)
    web = DialerProcess("web", ["web", "--port", str(web_port)], env, tmp_path)
    processes.append(web)
    await asyncio.to_thread(sandbox.wait_http, f"http://127.0.0.1:{sandbox_port}/_sandbox/knobs")
    await asyncio.to_thread(web.wait_http, f"http://127.0.0.1:{web_port}/healthz")
    key = await _api_key(database_url)
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{web_port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ) as api,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{sandbox_port}", timeout=30) as sandbox_api,
    ):
        stack = Stack(env=env, logdir=tmp_path, api=api, sandbox=sandbox_api)
        yield stack
        processes.extend(stack.workers)
