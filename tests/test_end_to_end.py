"""The whole path with real processes: REST API -> arq worker -> sandbox -> callback -> status.

Workers are killed with SIGKILL mid-call and Redis is flushed while work is pending; nobody is
called twice by accident and every notification still reaches a final status.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from arq.connections import ArqRedis

from dialer.processes import DialerProcess
from tests.stack import Stack
from tests.support import SQLITE_ONLY, wait_for


async def _post_in_flight(stack: Stack, number: str) -> tuple[DialerProcess, int]:
    """A worker whose call POST has reached the sandbox and is still waiting for the answer."""
    await stack.knobs(post_delay_s=1.5)
    worker = stack.start_worker()
    notification_id: int = (await stack.notify(number))["id"]

    async def dialled() -> bool:
        return any(call["recipient"] == number for call in await stack.calls())

    await wait_for(dialled, 20, "the sandbox to receive the call")
    return worker, notification_id


async def _killed_mid_post(stack: Stack, redis: ArqRedis, number: str) -> int:
    """SIGKILL the worker while the POST waits for its answer."""
    doomed, notification_id = await _post_in_flight(stack, number)
    await asyncio.to_thread(doomed.kill)
    read = await stack.read(notification_id)
    assert read["status"] == "dialing"
    assert read["attempts"][0]["status"] == "dialing"
    assert read["attempts"][0]["provider_id"] is None
    assert await redis.exists(f"arq:job:dial:{notification_id}") == 1
    await stack.knobs(post_delay_s=0)
    return notification_id


async def _job_rerun(redis: ArqRedis, notification_id: int) -> None:
    async def rerun() -> bool:
        return await redis.exists(f"arq:job:dial:{notification_id}") == 0

    # arq runs the job again once the dead worker's in-progress lease (timeout + 10 s) lapses.
    await wait_for(rerun, 40, "arq to run the dial job again", 0.2)


async def test_a_worker_killed_between_post_and_call_id_never_rings_twice(
    stack: Stack, redis: ArqRedis
) -> None:
    number = "+819012345670"
    notification_id = await _killed_mid_post(stack, redis, number)
    stack.start_worker()
    await _job_rerun(redis, notification_id)
    final = await stack.wait_final(notification_id, 30)
    calls = [c for c in await stack.calls() if c["recipient"] == number]
    assert len(calls) == 1
    assert final["status"] == "delivered"
    [attempt] = final["attempts"]
    assert attempt["provider_id"] == calls[0]["callid"]
    assert attempt["provider_status"] == "ANSWERED"


@SQLITE_ONLY  # the fence is tested on both by the test above
async def test_killed_mid_post_and_callback_lost_it_is_closed_unknown_not_redialled(
    stack: Stack, redis: ArqRedis
) -> None:
    await stack.knobs(callback_drop_rate=1)
    number = "+819012345671"
    notification_id = await _killed_mid_post(stack, redis, number)
    stack.start_worker()

    async def reconciling() -> bool:
        read = await stack.read(notification_id)
        return bool(read["attempts"][0]["status"] == "reconciling")

    await wait_for(reconciling, 20, "the attempt to be reconciled")
    await _job_rerun(redis, notification_id)
    final = await stack.wait_final(notification_id, 40)
    assert final["status"] == "failed"
    assert final["outcome"] == "unknown"
    assert [c["recipient"] for c in await stack.calls()].count(number) == 1


async def test_a_worker_stopped_mid_post_finishes_it_before_exiting(
    stack: Stack, redis: ArqRedis
) -> None:
    number = "+819012345672"
    worker, notification_id = await _post_in_flight(stack, number)
    await asyncio.to_thread(worker.stop)  # SIGTERM while the POST waits for its answer
    assert worker.popen.returncode == 0
    [attempt] = (await stack.read(notification_id))["attempts"]
    [call] = [c for c in await stack.calls() if c["recipient"] == number]
    assert attempt["provider_id"] == call["callid"]
    assert attempt["status"] in {"in_progress", "finished"}


@SQLITE_ONLY  # the fence is tested on both by the test above
async def test_redis_flushed_while_notifications_are_pending_every_one_completes(
    stack: Stack, redis: ArqRedis
) -> None:
    numbers = [f"+8190123456{i:02d}" for i in range(12)]
    policy = {"max_attempts": 2, "retry_delay_s": 0, "retry_on": ["no_answer"]}
    ids = [(await stack.notify(n, policy=policy))["id"] for n in numbers]
    await redis.flushall()  # every queued job is gone; only SQL knows the work
    worker = stack.start_worker()

    async def some_dialled() -> bool:
        return len(await stack.calls()) >= 3

    await wait_for(some_dialled, 20, "the first calls")
    await redis.flushall()  # again, with calls ringing and retries pending
    await asyncio.to_thread(worker.stop)
    stack.start_worker()
    finals = [await stack.wait_final(i, 60) for i in ids]
    assert all(f["status"] in {"delivered", "failed"} for f in finals)
    dialled = Counter(c["recipient"] for c in await stack.calls())
    assert set(dialled) == set(numbers)
    assert max(dialled.values()) <= 2
    for number, final in zip(numbers, finals, strict=True):
        assert len(final["attempts"]) == dialled[number]
