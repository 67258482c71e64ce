"""The hopper turns due SQL rows into jobs, so Redis can be flushed at any moment."""

from __future__ import annotations

from datetime import timedelta

from dialer.db import session_scope
from dialer.dispatch.hopper import run_hopper
from dialer.models import Notification, utcnow
from tests.support import Harness

NOTHING = {
    "expired": 0,
    "dials": 0,
    "checks": 0,
    "campaigns_started": 0,
    "campaigns_completed": 0,
    "campaigns_reported": 0,
}


async def test_after_a_flush_the_hopper_enqueues_every_due_notification_once(
    harness: Harness,
) -> None:
    ids = [(await harness.notify(f"+81901234567{d}"))["id"] for d in range(5)]
    redis = harness.runtime.redis
    assert await redis.zcard("arq:queue") == 5
    await redis.flushall()
    assert await run_hopper(harness.runtime) == {**NOTHING, "dials": 5}
    [batch] = await redis.queued_jobs()  # one account's: one job
    assert batch.function == "dial_notifications"
    assert sorted(batch.args[0]) == sorted(ids)
    # While it waits, the next tick's batch is the same job, dropped as a duplicate.
    assert await run_hopper(harness.runtime) == NOTHING
    assert len(await redis.queued_jobs()) == 1


async def test_a_notification_not_yet_due_is_left_alone(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.due_at = utcnow() + timedelta(hours=1)
    await harness.runtime.redis.flushall()
    assert (await run_hopper(harness.runtime))["dials"] == 0


async def test_overdue_notifications_expire_with_the_reason(harness: Harness) -> None:
    body = await harness.notify(
        "+819012345670", expires_at=(utcnow() + timedelta(milliseconds=300)).isoformat()
    )
    await harness.runtime.redis.flushall()
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert await run_hopper(harness.runtime) == {**NOTHING, "expired": 1}
    read = await harness.read(body["id"])
    assert read["status"] == "expired"
    assert read["last_error"] == "expired before it could be dialled"
