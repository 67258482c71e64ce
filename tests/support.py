"""Helpers shared by tests: settings for a test run, the harness, waiting for a condition."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from pydantic import RootModel, SecretStr
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.config import ProviderLimits, Settings
from dialer.runtime import Runtime
from dialer.sandbox.state import SandboxAccount
from dialer.vocabulary import FINAL_NOTIFICATION

FINAL = {s.value for s in FINAL_NOTIFICATION}
T = TypeVar("T")


# Limits far above anything a functional test sends: pacing has its own tests.
_FAST = ProviderLimits(calls=1000, sms=1000, status=1000, provisioning=1000)
UNPACED = RootModel[dict[str, ProviderLimits]]({name: _FAST for name in ("xoxzo", "voxology")})


# For a test whose subject is not the database (the command line, a script's rules): SQLite
# only, where the default runs each test on both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def make_settings(database_url: str, *, web_port: int, sandbox_port: int, **extra: Any) -> Settings:
    return Settings().model_copy(
        update={
            "env": "development",
            "database_url": database_url,
            "public_url": f"http://127.0.0.1:{web_port}",
            "xoxzo_api_url": f"http://127.0.0.1:{sandbox_port}",
            "xoxzo_sid": "test-sid",
            "xoxzo_auth_token": SecretStr("test-token"),
            "voxology_api_key": SecretStr("test-voxology-key"),
            "voxology_basic_auth": SecretStr("test-account:test-secret"),
            "voxology_api_url": f"http://127.0.0.1:{sandbox_port}/v1",
            "secret_key": SecretStr(secrets.token_urlsafe(32)),
            "provider_timeout_s": 5.0,
            "poll_interval_s": 0.5,
            "ambiguous_after_s": 2.0,
            "reconcile_deadline_s": 30.0,
            "provider_limits": UNPACED.root,
            # Test receivers listen on loopback.
            "webhook_allow_private": True,
            "audio_dir": Path(tempfile.mkdtemp(prefix="dialer-audio-")),
            **extra,
        }
    )


class ApiCalls:
    """The REST calls tests make; the class it is mixed into holds an authorised `api` client."""

    api: httpx.AsyncClient

    async def notify(self, to: str, **fields: Any) -> dict[str, Any]:
        body = {"channel": "tts", "to": to, "from": "+81312345678", "text": "Hello", "lang": "en"}
        answer = await self.api.post("/v1/notifications", json={**body, **fields})
        assert answer.status_code == 202, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def read(self, notification_id: int) -> dict[str, Any]:
        answer = await self.api.get(f"/v1/notifications/{notification_id}")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def wait_final(self, notification_id: int, within: float = 30) -> dict[str, Any]:
        async def final() -> dict[str, Any] | None:
            body = await self.read(notification_id)
            return body if body["status"] in FINAL else None

        return await wait_for(final, within, f"notification {notification_id} final", 0.1)


@dataclass
class Harness(ApiCalls):
    settings: Settings
    runtime: Runtime
    redis_url: str
    sandbox: SandboxAccount
    sandbox_url: str
    api: httpx.AsyncClient
    api_key: str
    # The web app served at `api`; its runtime is its own, not `runtime`.
    web_app: FastAPI

    def calls_to(self, number: str) -> int:
        return sum(1 for call in self.sandbox.calls.values() if call.recipient == number)


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], within: float, what: str, interval: float = 0.1
) -> T:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(interval)


async def sqlite_steps(session: AsyncSession, work: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """`work`'s result and the thousands of SQLite VM steps it took on `session`'s connection:
    a measure of the work a query does, which, unlike a time, the machine does not change."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.set_progress_handler(count, 1000)
    try:
        result = await work()
    finally:
        await raw.driver_connection.set_progress_handler(None, 1000)
    return result, steps


def our_children(module: str) -> list[int]:
    """The pids of this process's children running `python -m module`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and module.encode() in command.split(b"\0"):
            found.append(int(entry.name))
    return found
