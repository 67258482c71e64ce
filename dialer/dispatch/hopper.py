"""The hopper: turns due rows in SQL into queued jobs, a bounded batch at a time.

Redis only ever holds work that is due now, so it may be flushed at any moment: the next tick
finds the same rows and enqueues them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.gates import defer_closed_windows, settle_campaigns
from dialer.db import session_scope
from dialer.lifecycle import FINAL_ATTEMPT, move_notification
from dialer.models import Attempt, Notification, NotificationStatus, utcnow
from dialer.runtime import Runtime, check_job_id, dial_job_id, enqueue_check, enqueue_dial

__all__ = ["DueWork", "expire_overdue", "find_due_work", "run_hopper"]


@dataclass(frozen=True)
class DueWork:
    notification_ids: list[int]
    attempt_ids: list[int]


async def expire_overdue(session: AsyncSession, now: datetime, limit: int) -> int:
    stmt = (
        select(Notification)
        .where(
            Notification.status == NotificationStatus.queued,
            col(Notification.expires_at).is_not(None),
            col(Notification.expires_at) <= now,
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    overdue = list((await session.exec(stmt)).all())
    for notification in overdue:
        move_notification(notification, NotificationStatus.expired)
        notification.last_error = "expired before it could be dialled"
    return len(overdue)


# Rounds of moving contacts out of closed windows in one tick, each of up to one batch.
_WINDOW_ROUNDS = 3


async def _due_notifications(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Up to `limit` due notifications whose window is open, moving the others to theirs."""
    for _ in range(_WINDOW_ROUNDS):
        due = await session.exec(
            select(Notification.id)
            .where(Notification.status == NotificationStatus.queued, Notification.due_at <= now)
            .order_by(col(Notification.due_at))
            .limit(limit)
        )
        ids = [i for i in due.all() if i is not None]
        deferred = await defer_closed_windows(session, now, ids)
        if not deferred:
            return ids
        if len(ids) > len(deferred):
            return [i for i in ids if i not in deferred]
    return []


async def find_due_work(session: AsyncSession, now: datetime, limit: int) -> DueWork:
    checks = await session.exec(
        select(Attempt.id)
        .where(
            col(Attempt.status).not_in(list(FINAL_ATTEMPT)),
            col(Attempt.next_check_at).is_not(None),
            col(Attempt.next_check_at) <= now,
        )
        .order_by(col(Attempt.next_check_at))
        .limit(limit)
    )
    return DueWork(
        notification_ids=await _due_notifications(session, now, limit),
        attempt_ids=[i for i in checks.all() if i is not None],
    )


async def _not_queued(redis: ArqRedis, ids: list[int], job_id: Callable[[int], str]) -> list[int]:
    """The ids among `ids` whose job is not in Redis (never enqueued, done, or flushed away)."""
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.exists(job_key_prefix + job_id(i))
        found = await pipe.execute()
    return [i for i, exists in zip(ids, found, strict=True) if not exists]


async def run_hopper(runtime: Runtime) -> dict[str, int]:
    """One tick: expire what is overdue, enqueue due dials and due status checks."""
    limit = runtime.settings.hopper_batch
    async with session_scope(runtime.sessions) as session:
        now = utcnow()
        expired = await expire_overdue(session, now, limit)
        campaigns = await settle_campaigns(session, now)
        work = await find_due_work(session, now, limit)
    dials = await _not_queued(runtime.redis, work.notification_ids, dial_job_id)
    checks = await _not_queued(runtime.redis, work.attempt_ids, check_job_id)
    for notification_id in dials:
        await enqueue_dial(runtime.redis, notification_id)
    for attempt_id in checks:
        await enqueue_check(runtime.redis, attempt_id)
    return {"expired": expired, "dials": len(dials), "checks": len(checks), **campaigns}
