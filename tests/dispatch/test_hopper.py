"""The hopper turns due SQL rows into jobs, so Redis can be flushed at any moment."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from arq.constants import job_key_prefix
from sqlmodel import col

from dialer.db import SessionMaker, session_scope
from dialer.dispatch.hopper import (
    EARLY_S,
    HANDED_S,
    Due,
    DueWork,
    by_moment,
    expire_overdue,
    find_due_work,
    run_hopper,
)
from dialer.models import Attempt, Notification, utcnow
from dialer.runtime import dial_job_id
from dialer.vocabulary import Channel
from tests.support import Harness, sqlite_steps

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


async def _batched(harness: Harness) -> list[int]:
    """The notifications in batch jobs waiting in Redis, each as often as it is in one."""
    jobs = await harness.runtime.redis.queued_jobs()
    return sorted(i for job in jobs if job.function == "dial_notifications" for i in job.args[0])


async def _without_own_job(harness: Harness, number: str) -> int:
    """A due notification in no job, as a campaign's contact is until a tick hands it out."""
    notification_id: int = (await harness.notify(number))["id"]
    redis = harness.runtime.redis
    await redis.delete(job_key_prefix + dial_job_id(notification_id))
    await redis.zrem("arq:queue", dial_job_id(notification_id))
    return notification_id


async def test_rows_in_a_batch_not_yet_started_are_not_handed_out_again(
    harness: Harness,
) -> None:
    first = [(await harness.notify(f"+81901234567{d}"))["id"] for d in range(3)]
    await harness.runtime.redis.flushall()
    assert (await run_hopper(harness.runtime))["dials"] == 3
    later = await _without_own_job(harness, "+819012345679")
    # The first batch has not started: its rows are still queued in SQL, and lined up.
    assert (await run_hopper(harness.runtime))["dials"] == 1
    assert await _batched(harness) == sorted([*first, later])


async def test_rows_of_a_batch_lost_from_redis_are_handed_out_again_after_a_while(
    harness: Harness,
) -> None:
    ids = [(await harness.notify(f"+81901234567{d}"))["id"] for d in range(3)]
    redis = harness.runtime.redis
    await redis.flushall()
    assert (await run_hopper(harness.runtime))["dials"] == 3
    [job] = await redis.queued_jobs()
    await redis.delete(job_key_prefix + job.job_id)
    await redis.zrem("arq:queue", job.job_id)
    assert (await run_hopper(harness.runtime))["dials"] == 0  # handed out a moment ago
    long_ago = time.time() - HANDED_S - 1
    await redis.zadd("dialer:handed", {str(i): long_ago for i in ids})
    assert (await run_hopper(harness.runtime))["dials"] == 3
    assert await _batched(harness) == sorted(ids)


async def test_a_notification_not_yet_due_is_left_alone(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.due_at = utcnow() + timedelta(hours=1)
    await harness.runtime.redis.flushall()
    assert (await run_hopper(harness.runtime))["dials"] == 0


async def _due_in(harness: Harness, seconds: float) -> tuple[int, datetime]:
    body = await harness.notify("+819012345670")
    due = utcnow() + timedelta(seconds=seconds)
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.due_at = due
    await harness.runtime.redis.flushall()
    return body["id"], due


async def test_a_notification_due_within_the_next_ticks_waits_in_redis_for_its_moment(
    harness: Harness,
) -> None:
    notification_id, due = await _due_in(harness, EARLY_S - 0.5)
    redis = harness.runtime.redis
    assert (await run_hopper(harness.runtime))["dials"] == 1
    [job] = await redis.queued_jobs()
    assert job.args[0] == [notification_id]
    [(_, score)] = await redis.zrange("arq:queue", 0, -1, withscores=True)
    starts = datetime.fromtimestamp(score / 1000, UTC)
    # Never before its moment; within one slot (100 ms) after it.
    assert due <= starts < due + timedelta(milliseconds=101)
    # The next tick finds the same row in the same slot: the same job, dropped.
    assert (await run_hopper(harness.runtime))["dials"] == 0
    assert len(await redis.queued_jobs()) == 1


async def test_a_notification_due_beyond_the_next_ticks_is_not_yet_enqueued(
    harness: Harness,
) -> None:
    await _due_in(harness, EARLY_S + 5.0)  # with room for a slow machine before the tick
    assert (await run_hopper(harness.runtime))["dials"] == 0
    assert await harness.runtime.redis.queued_jobs() == []


def test_rows_wait_for_the_end_of_their_100_ms_slot_and_due_ones_go_at_once() -> None:
    now = datetime(2026, 12, 3, 6, 0, 0, tzinfo=UTC)

    def due(i: int, ms: int) -> Due:
        return Due(i, "xoxzo", "calls", True, now + timedelta(milliseconds=ms))

    rows = [due(1, -5000), due(2, 0), due(3, 1), due(4, 99), due(5, 100), due(6, 101)]
    assert by_moment(rows, now) == {
        None: [1, 2],
        now + timedelta(milliseconds=100): [3, 4, 5],
        now + timedelta(milliseconds=200): [6],
    }


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


async def test_a_tick_reads_what_is_due_not_every_contact_and_attempt(
    sqlite_sessions: SessionMaker,
) -> None:
    # SQLite's VM steps are the measure of the work: a tick is a write transaction, every second.
    await _waiting_and_finished(sqlite_sessions, 300)
    small = await _tick_steps(sqlite_sessions)
    await _waiting_and_finished(sqlite_sessions, 10_000)
    big = await _tick_steps(sqlite_sessions)
    # 34 times the rows: campaign contacts due tomorrow (no deadline) and finished attempts.
    # Before, the expiry and the status checks read them all, 0.22 and 0.26 s a tick at a million.
    assert big <= 2 * small + 5, (small, big)


async def _waiting_and_finished(sessions: SessionMaker, n: int) -> None:
    now = utcnow()
    contact = {
        "provider": "xoxzo",
        "channel": Channel.tts,
        "from_number": "+815012345678",
        "campaign_id": 1,
        "due_at": now + timedelta(days=1),
    }
    async with session_scope(sessions) as session:
        connection = await session.connection()
        result = await connection.execute(
            sa.insert(Notification).returning(col(Notification.id)),
            [{**contact, "to_number": f"+8190{n:03d}{i:05d}"} for i in range(n)],
        )
        ids = [row[0] for row in result]
        await connection.execute(
            sa.insert(Attempt),
            [
                {"notification_id": i, "number": 1, "provider": "xoxzo", "status": "finished"}
                for i in ids
            ],
        )


async def _tick_steps(sessions: SessionMaker) -> int:
    async with sessions() as session, session.begin():
        now = utcnow()

        async def tick() -> DueWork:
            await expire_overdue(session, now, 200)
            return await find_due_work(session, now, 200)

        work, steps = await sqlite_steps(session, tick)
        await session.rollback()
    assert work.notifications == [] and work.attempt_ids == []
    return steps
