"""The line between an attempt written `dialing` and its request leaving.

A dial writes its attempt before it waits for its slot, so a job that runs twice finds the
contact taken. Whether the request then left is settled by one conditional write just before it
goes: `sent_at`, set only while the attempt is still `dialing` and unsent. The sweeper takes back
an attempt whose job died before that write under the same condition, so exactly one of the two
wins, and an attempt taken back certainly rang nobody: its contact is dialled again, at no cost.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.attempts.events import NeverSent, NotPlaced
from dialer.models import Attempt, Notification
from dialer.vocabulary import AttemptStatus

__all__ = ["TakenBack", "mark_each_sent", "mark_sent", "take_back"]

A = AttemptStatus


class TakenBack(Exception):
    """The sweeper took back some of a request's attempts: none of them may be sent, and the
    transaction that tried to clear them is rolled back."""


async def mark_sent(
    session: AsyncSession, attempt_ids: list[int], now: datetime, ambiguous_after_s: float
) -> None:
    """Clear one request's attempts to leave, all or none; TakenBack if the sweeper took any
    of them back."""
    result = await session.exec(_clearing(attempt_ids, now, ambiguous_after_s))
    if int(result.rowcount) != len(attempt_ids):
        raise TakenBack(f"attempts {attempt_ids}: taken back before they were cleared to leave")


async def mark_each_sent(
    session: AsyncSession, attempt_ids: list[int], now: datetime, ambiguous_after_s: float
) -> list[bool]:
    """Clear each of these attempts, each one request's only attempt, to leave, in one
    statement: whether each was cleared (False: the sweeper took it back first)."""
    clearing = _clearing(attempt_ids, now, ambiguous_after_s).returning(col(Attempt.id))
    cleared = set((await session.exec(clearing)).scalars().all())
    return [attempt_id in cleared for attempt_id in attempt_ids]


def _clearing(attempt_ids: list[int], now: datetime, ambiguous_after_s: float) -> Any:
    return (
        update(Attempt)
        .where(
            col(Attempt.id).in_(attempt_ids),
            col(Attempt.status) == A.dialing,
            col(Attempt.sent_at).is_(None),
        )
        .values(
            sent_at=now,
            updated_at=now,
            next_check_at=now + timedelta(seconds=ambiguous_after_s),
        )
    )


async def take_back(
    session: AsyncSession, notification: Notification, now: datetime, poll_interval_s: float
) -> int:
    """Take back every attempt of `notification` still `dialing` and never cleared to leave:
    its contact waits its turn again, uncounted. (A conference leg whose fellow legs may be
    ringing cannot be dialled again alone: it fails, as a refused request would.)"""
    found = (
        await session.exec(
            select(Attempt.id).where(
                Attempt.notification_id == notification.id,
                col(Attempt.status) == A.dialing,
                col(Attempt.sent_at).is_(None),
            )
        )
    ).all()
    ids = [attempt_id for attempt_id in found if attempt_id is not None]
    loaded = await rounds.load(session, ids) if ids else None
    if loaded is None:
        return 0
    # Read again under the lock: one cleared to leave meanwhile is not taken back.
    unsent = [a for a in loaded.attempts if a.status is A.dialing and a.sent_at is None]
    if not unsent:
        return 0
    round_ = replace(loaded, attempts=unsent)
    reason = NeverSent("its worker stopped before the request was cleared to leave")
    rounds.apply(round_, NotPlaced(reason), now, poll_interval_s)
    return len(unsent)
