"""Voxology provisioning through the sandbox: one request at a time per API key, 423 retried."""

from __future__ import annotations

import asyncio
import time

import httpx

from dialer.numbers.provisioning import change_numbers
from dialer.runtime import Runtime
from tests.support import Harness, wait_for

NUMBERS = [f"+1415555{i:04d}" for i in range(6)]


async def test_workers_everywhere_take_turns_and_never_meet_a_423(harness: Harness) -> None:
    harness.sandbox.config.voxology_provisioning_s = 10  # 0.1 s at the harness's time scale
    others = [await Runtime.open(harness.settings, harness.redis_url) for _ in range(2)]
    runtimes = [harness.runtime, *others]
    try:
        await asyncio.gather(
            *(
                change_numbers(runtimes[i % 3], "provision", [number], "CallFlows")
                for i, number in enumerate(NUMBERS)
            )
        )
    finally:
        for runtime in others:
            await runtime.close()
    assert set(harness.sandbox.voxology_numbers) == set(NUMBERS)
    assert harness.sandbox.voxology_locked == 0


async def test_a_423_from_someone_else_is_waited_out_and_tried_again(harness: Harness) -> None:
    harness.sandbox.config.voxology_provisioning_s = 150  # 1.5 s
    assert harness.settings.voxology_api_key is not None
    outsider = httpx.AsyncClient(
        base_url=f"{harness.sandbox_url}/v1",
        headers={"X-API-Key": harness.settings.voxology_api_key.get_secret_value()},
    )
    async with outsider:
        theirs = asyncio.create_task(
            outsider.post("/PhoneNumbers/CallFlows", json={"phone_numbers": [{"no": NUMBERS[0]}]})
        )

        async def theirs_in_flight() -> bool:
            return harness.sandbox.voxology_provisioning

        # Ours goes once theirs holds Voxology's lock, however slow the machine is.
        await wait_for(theirs_in_flight, 10, "the outsider's request at the sandbox", 0.01)
        held = await change_numbers(harness.runtime, "provision", [NUMBERS[1]], "CallFlows")
        assert (await theirs).status_code == 200
    assert harness.sandbox.voxology_locked == 1
    assert {number["no"] for number in held} == {NUMBERS[0], NUMBERS[1]}
    await change_numbers(harness.runtime, "release", [NUMBERS[0]], "CallFlows")
    assert set(harness.sandbox.voxology_numbers) == {NUMBERS[1]}


async def test_provisioning_keeps_to_its_own_rate(harness: Harness) -> None:
    limits = {
        name: limit.model_copy(update={"provisioning": 2.0})
        for name, limit in harness.settings.provider_limits.items()
    }
    settings = harness.settings.model_copy(update={"provider_limits": limits})
    runtime = await Runtime.open(settings, harness.redis_url)
    try:
        started = time.monotonic()
        for number in NUMBERS[:4]:
            await change_numbers(runtime, "provision", [number], "CallFlows")
        elapsed = time.monotonic() - started
    finally:
        await runtime.close()
    # Four requests at 2/s (less the limiter's 1%): three intervals of 0.505 s at the least.
    assert elapsed >= 1.5
    assert set(harness.sandbox.voxology_numbers) == set(NUMBERS[:4])
