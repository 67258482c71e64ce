"""Voxology number provisioning and release: one request at a time per API key, across every
process of every machine, and again after a few seconds while Voxology answers 423001."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from redis.asyncio import Redis

from dialer.pacing.service import Ticket, account_id, account_limit, take_slot
from dialer.providers.base import Locked, RateLimited
from dialer.providers.voxology import VoxologyProvider
from dialer.runtime import Runtime

__all__ = ["NotConfigured", "change_numbers", "one_at_a_time"]

T = TypeVar("T")

# Voxology: "On status 423, try again after a few seconds."
_DEFAULT_WAIT_S = 3.0


async def one_at_a_time(
    redis: Redis,
    account: str,
    operation: Callable[[], Awaitable[T]],
    *,
    tries: int = 20,
    request_timeout_s: float = 60.0,
    jitter: random.Random | None = None,
) -> T:
    """Run `operation` holding this account's provisioning lock; on 423 (someone outside the
    dialer, say the portal, holds Voxology's own lock) or 429, let go, wait a few jittered
    seconds and try again, up to `tries` times."""
    rng = jitter or random.Random()
    for tried in range(1, tries + 1):
        # The lock outlives any one request (the provider timeout is shorter), and expires by
        # itself if its holder dies mid-request.
        lock = redis.lock(
            f"dialer:provisioning:{account}",
            timeout=request_timeout_s,
            blocking_timeout=request_timeout_s * 5,
        )
        async with lock:
            try:
                return await operation()
            except (Locked, RateLimited) as exc:
                if tried == tries:
                    raise
                wait = exc.retry_after or _DEFAULT_WAIT_S
        await asyncio.sleep(wait + rng.uniform(0, wait / 2))
    raise AssertionError("unreachable: the last try returns or raises")


async def change_numbers(
    runtime: Runtime, action: Literal["provision", "release"], numbers: list[str], assigned_to: str
) -> list[dict[str, Any]]:
    """Provision or release Voxology numbers, one request at a time for this API key; the
    numbers the account then holds for `assigned_to` (none listed after a release)."""
    provider = runtime.providers.get("voxology")
    if not isinstance(provider, VoxologyProvider):
        raise NotConfigured("Voxology is not configured: set VOXOLOGY_API_KEY")
    account = account_id(runtime.settings, "voxology")
    if action == "provision":
        return await one_at_a_time(
            runtime.redis,
            account,
            lambda: _paced(runtime, lambda: provider.provision_numbers(numbers, assigned_to)),
        )
    await one_at_a_time(
        runtime.redis,
        account,
        lambda: _paced(runtime, lambda: provider.release_numbers(numbers, assigned_to)),
    )
    return []


async def _paced(runtime: Runtime, request: Callable[[], Awaitable[T]]) -> T:
    """`request` under the account's provisioning limit, and its answer told to the limiter."""
    limit = account_limit(runtime.settings, "voxology", "provisioning")
    found = await take_slot(runtime.limiter, [limit], runtime.settings.pacing_max_wait_s, must=True)
    assert isinstance(found, Ticket)
    name = f"provisioning-{random.getrandbits(64):x}"
    return await found.send(runtime.limiter, limit, name, request)


class NotConfigured(Exception):
    """The provider this needs has no credentials here."""
