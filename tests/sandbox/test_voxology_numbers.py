"""The sandbox's Voxology limits: 400429 per minute, 400378 for calls in flight, 423001 for a
second provisioning request while one is running; and provisioning itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from dialer.providers.base import CallRequest, Locked, RateLimited
from dialer.providers.voxology import VoxologyProvider
from dialer.sandbox import SandboxConfig, create_sandbox_app
from dialer.sandbox.state import SandboxAccount
from dialer.serve import free_ports, running_server
from tests.support import wait_for

NUMBERS = ["+19495551212", "+19495551213"]


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[SandboxAccount, VoxologyProvider]]:
    app = create_sandbox_app(SandboxConfig(voxology_api_key="vk", time_scale=0.05))
    [port] = free_ports(1)
    async with running_server(app, "127.0.0.1", port), httpx.AsyncClient() as client:
        provider = VoxologyProvider(client, api_key="vk", base_url=f"http://127.0.0.1:{port}/v1")
        yield app.state.account, provider


async def test_numbers_are_provisioned_and_released(
    sandbox: tuple[SandboxAccount, VoxologyProvider],
) -> None:
    account, provider = sandbox
    held = await provider.provision_numbers(NUMBERS)
    assert [(n["no"], n["assigned_to"], n["status"]) for n in held] == [
        (NUMBERS[0], "CallFlows", "routed"),
        (NUMBERS[1], "CallFlows", "routed"),
    ]
    assert held[0]["formatted"] == "(949) 555-1212"
    await provider.release_numbers(NUMBERS[:1])
    assert list(account.voxology_numbers) == NUMBERS[1:]


async def test_a_concurrent_provisioning_request_is_locked_with_423001(
    sandbox: tuple[SandboxAccount, VoxologyProvider],
) -> None:
    account, provider = sandbox
    first = asyncio.create_task(provider.provision_numbers(NUMBERS[:1]))

    async def under_way() -> bool:
        return account.voxology_provisioning

    await wait_for(under_way, 5, "the first provisioning to start", 0.005)
    with pytest.raises(Locked) as caught:
        await provider.provision_numbers(NUMBERS[1:])
    assert caught.value.status_code == 423 and "423001" in caught.value.message
    await first
    assert list(account.voxology_numbers) == NUMBERS[:1]
    await provider.provision_numbers(NUMBERS[1:])  # once the first is done, the next goes
    assert list(account.voxology_numbers) == NUMBERS


async def test_requests_over_the_per_minute_limit_get_400429(
    sandbox: tuple[SandboxAccount, VoxologyProvider],
) -> None:
    account, provider = sandbox
    account.config.voxology_requests_per_minute = 2
    await provider.provision_numbers(NUMBERS[:1])
    await provider.release_numbers(NUMBERS[:1])
    with pytest.raises(RateLimited) as caught:
        await provider.provision_numbers(NUMBERS[:1])
    assert "400429" in caught.value.message
    assert caught.value.retry_after == 60.0
    assert account.voxology_throttled == 1


async def test_calls_over_the_throttle_get_400378(
    sandbox: tuple[SandboxAccount, VoxologyProvider],
) -> None:
    account, provider = sandbox
    account.config.voxology_max_live_calls = 1
    account.config.time_scale = 100.0  # the first call stays in flight
    await provider.configure_number("+14155550100", "http://127.0.0.1:9/flow", {})

    def call(to: str) -> CallRequest:
        return CallRequest(caller="+14155550100", recipient=to, callback_url="", tag="t")

    await provider.place_call(call("+14155550101"))
    with pytest.raises(RateLimited) as caught:
        await provider.place_call(call("+14155550102"))
    assert "400378" in caught.value.message
    assert caught.value.retry_after == 5.0
