"""The hopper: turns due rows in SQL into queued jobs, a bounded batch at a time.

Redis only ever holds work that is due now or within the next two seconds, so it may be flushed
at any moment: the next tick finds the same rows and enqueues them again. A row due within those
seconds goes in a job deferred to its moment, so that a send is dialled on time, not when a tick
first finds it due.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from arq.connections import ArqRedis
from arq.constants import job_key_prefix
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.transitions import move_notification
from dialer.campaigns.gates import defer_closed_windows, settle_campaigns
from dialer.db import session_scope
from dialer.models import Attempt, Notification, utcnow
from dialer.pacing.service import Kind, account_limit, kind_of
from dialer.runtime import Runtime, check_job_id, dial_job_id, enqueue_check, enqueue_dials
from dialer.vocabulary import OPEN_ATTEMPT, Channel, NotificationStatus

__all__ = [
    "EARLY_S",
    "HANDED_S",
    "LOOKAHEAD_S",
    "Due",
    "DueWork",
    "expire_overdue",
    "find_due_work",
    "run_hopper",
]


class Due(NamedTuple):
    """A due notification, with its provider and the kind of request it makes, for pacing."""

    id: int
    provider: str
    kind: Kind
    # Made through the API (not a campaign's): it may have a dial job of its own already.
    own_job: bool
    due_at: datetime


@dataclass(frozen=True)
class DueWork:
    notifications: list[Due]
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
# Work handed out per provider account and kind, counting the slots its limiter has reserved
# ahead already: this many seconds of its rate. With one second, a tick or a job's start that
# came late left the slots idle (18.75 calls/s of 20, with 4 workers and a CPU hog).
LOOKAHEAD_S = 2.0
# Rows due this far ahead are enqueued now, deferred to their moment: a tick comes every second,
# and may start late.
EARLY_S = 2.0
# A deferred job waits for the last of its rows, due within this many milliseconds of each other.
_SLOT_MS = 100


async def _due_notifications(session: AsyncSession, now: datetime, limit: int) -> list[Due]:
    """Up to `limit` notifications due by `EARLY_S` from now whose window is open, moving the
    others to theirs; each with the provider and the kind of request its next attempt makes."""
    for _ in range(_WINDOW_ROUNDS):
        query = (
            sa.select(  # SQLAlchemy's: sqlmodel's select() is typed for four columns at most
                col(Notification.id),
                col(Notification.provider),
                col(Notification.channel),
                col(Notification.on_fallback),
                col(Notification.campaign_id),
                col(Notification.due_at),
            )
            .where(
                col(Notification.status) == NotificationStatus.queued,
                col(Notification.due_at) <= now + timedelta(seconds=EARLY_S),
            )
            .order_by(col(Notification.due_at), col(Notification.id))
            .limit(limit)
        )
        due = await session.exec(query)  # type: ignore[call-overload]
        rows = [
            Due(i, provider, kind_of(Channel(ch), on_fallback=fallback), campaign is None, at)
            for i, provider, ch, fallback, campaign, at in due.all()
            if i is not None
        ]
        deferred = await defer_closed_windows(session, now, [row.id for row in rows])
        if not deferred or len(rows) > len(deferred):
            return [row for row in rows if row.id not in deferred]
    return []


async def find_due_work(session: AsyncSession, now: datetime, limit: int) -> DueWork:
    checks = await session.exec(
        select(Attempt.id)
        .where(
            # Each open status's range of its index: a scan of every attempt ever made, with
            # `not in` the final ones, took 0.26 s a tick at a million.
            col(Attempt.status).in_(OPEN_ATTEMPT),
            col(Attempt.next_check_at).is_not(None),
            col(Attempt.next_check_at) <= now,
        )
        .order_by(col(Attempt.next_check_at))
        .limit(limit)
    )
    return DueWork(
        notifications=await _due_notifications(session, now, limit),
        attempt_ids=[i for i in checks.all() if i is not None],
    )


async def _queued(redis: ArqRedis, ids: list[int], job_id: Callable[[int], str]) -> list[int]:
    """The ids among `ids` whose job is in Redis, waiting or running."""
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.exists(job_key_prefix + job_id(i))
        found = await pipe.execute()
    return [i for i, exists in zip(ids, found, strict=True) if exists]


async def _not_queued(redis: ArqRedis, ids: list[int], job_id: Callable[[int], str]) -> list[int]:
    """The ids among `ids` whose job is not in Redis (never enqueued, done, or flushed away)."""
    queued = set(await _queued(redis, ids, job_id))
    return [i for i in ids if i not in queued]


# Rows handed out in a batch job within this many seconds are in it still, waiting for it to
# start and claim them; after it, a job that has not claimed them is taken to be lost.
HANDED_S = LOOKAHEAD_S + EARLY_S + 1.0
_HANDED_KEY = "dialer:handed"


async def _handed(redis: ArqRedis, now_s: float) -> set[int]:
    """The rows handed out to batch jobs in the last `HANDED_S`."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zremrangebyscore(_HANDED_KEY, "-inf", now_s - HANDED_S)
        pipe.zrangebyscore(_HANDED_KEY, now_s - HANDED_S, "+inf")
        _, found = await pipe.execute()
    return {int(i) for i in found}


async def _hand(redis: ArqRedis, ids: list[int], now_s: float) -> None:
    if ids:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zadd(_HANDED_KEY, dict.fromkeys(map(str, ids), now_s))
            pipe.expire(_HANDED_KEY, math.ceil(HANDED_S) * 2)
            await pipe.execute()


async def _paced(
    runtime: Runtime, due: list[Due], now_s: float
) -> dict[tuple[str, Kind], list[Due]]:
    """The due notifications to enqueue now, by provider account and kind: those in no job yet
    (a job of their own, or a batch handed out by a tick before that has not claimed them),
    no more per account than its limit lets through before the next tick or two. More would
    only wait in Redis, or start dials that find no slot and end, and a row handed out again in
    another batch makes a job that finds it claimed. (Only an API's notification may have a job
    of its own.)"""
    own = [row.id for row in due if row.own_job]
    queued = set(await _queued(runtime.redis, own, dial_job_id))
    queued |= await _handed(runtime.redis, now_s)
    room: dict[tuple[str, Kind], int] = {}
    chosen: dict[tuple[str, Kind], list[Due]] = {}
    for row in due:
        notification_id, provider, kind = row.id, row.provider, row.kind
        if (provider, kind) not in room:
            limit = account_limit(runtime.settings, provider, kind)
            pace = await runtime.limiter.pace(limit)
            lined_up = sum(
                1 for r in due if (r.provider, r.kind) == (provider, kind) and r.id in queued
            )
            ahead = min(pace.ahead_s, LOOKAHEAD_S)
            room[provider, kind] = math.ceil(pace.rate * (LOOKAHEAD_S - ahead)) - lined_up
        if notification_id in queued or room[provider, kind] <= 0:
            continue
        room[provider, kind] -= 1
        chosen.setdefault((provider, kind), []).append(row)
    return chosen


def batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def by_moment(rows: list[Due], now: datetime) -> dict[datetime | None, list[int]]:
    """One account's rows by when their job may start: None for those due already, else the end
    of their `_SLOT_MS` slot. A slot's rows are the same at each tick, so a deferred batch
    enqueued again is the same job, dropped as a duplicate."""
    moments: dict[datetime | None, list[int]] = {}
    for row in rows:
        moment = None if row.due_at <= now else _slot_end(row.due_at)
        moments.setdefault(moment, []).append(row.id)
    return moments


def _slot_end(moment: datetime) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    micros = (moment - epoch) // timedelta(microseconds=1)
    slot = -(-micros // (_SLOT_MS * 1000)) * _SLOT_MS * 1000
    return epoch + timedelta(microseconds=slot)


async def run_hopper(runtime: Runtime) -> dict[str, int]:
    """One tick: expire what is overdue, enqueue due dials and due status checks."""
    limit = runtime.settings.hopper_batch
    async with session_scope(runtime.sessions) as session:
        now = utcnow()
        expired = await expire_overdue(session, now, limit)
        campaigns = await settle_campaigns(session, now)
        work = await find_due_work(session, now, limit)
    now_s = time.time()
    dials = await _paced(runtime, work.notifications, now_s)
    checks = await _not_queued(runtime.redis, work.attempt_ids, check_job_id)
    dialled = 0
    handed: list[int] = []
    for rows in dials.values():
        # One job per batch of an account's dials due together; a few per account, so that
        # every worker takes a share when one account has all the work.
        for moment, ids in by_moment(rows, now).items():
            for batch in batches(ids, runtime.settings.dial_batch):
                if await enqueue_dials(runtime.redis, batch, at=moment):
                    dialled += len(batch)
                handed += batch
    await _hand(runtime.redis, handed, now_s)
    for attempt_id in checks:
        await enqueue_check(runtime.redis, attempt_id)
    return {"expired": expired, "dials": dialled, "checks": len(checks), **campaigns}
