"""A round: the attempts one dial opens for a notification (one, or one per participant of a
conference), opened together here and moved only here, by one event at a time, after which the
round is always settled: a conference's notification moves on once every leg is final.

The notification's attempt counter goes up when a round opens and down when the whole round
certainly rang nobody; nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.events import (
    Event,
    GaveUp,
    MaybePlaced,
    NotPlaced,
    Placed,
    Refused,
    Reported,
    WorkerLost,
)
from dialer.attempts.rules import (
    FallBack,
    Finish,
    conference_outcome,
    decide_after_attempt,
    error_rule,
    not_sent_delay_s,
)
from dialer.attempts.transitions import move_attempt, move_notification
from dialer.bounds import STORED
from dialer.logs import fields
from dialer.models import Attempt, Notification, channel_of
from dialer.providers.base import PlacedConference, PlacedMessage, StatusReport
from dialer.scheduling.policies import RetryPolicy
from dialer.vocabulary import FINAL_ATTEMPT, AttemptStatus, Channel, NotificationStatus, Outcome

__all__ = ["Applied", "Opener", "Round", "apply", "load", "load_each", "open_round"]

log = logging.getLogger(__name__)

A = AttemptStatus
N = NotificationStatus

# What an event did to an attempt: for job logs and callback answers.
Applied = Literal[
    "placed",
    "progress",
    "final",
    "other call",
    "already final",
    "ignored",
    "requeued",
    "not sent",
    "failed",
    "reconciling",
    "rejected",
    "gave up",
    "lost",
]


@dataclass(frozen=True)
class Round:
    """The attempts an event is about, locked with their notification, and every leg of the
    round they belong to."""

    notification: Notification
    attempts: list[Attempt]
    legs: list[Attempt]


def _conference(notification: Notification) -> bool:
    return notification.channel is Channel.conference and not notification.on_fallback


async def open_round(
    session: AsyncSession, notification: Notification, now: datetime, ambiguous_after_s: float
) -> list[Attempt]:
    """The attempts of the notification's next round, written `dialing`: one, or one per
    participant of a conference. The notification is `dialing` and has one more attempt made."""
    opener = await Opener.counting(session, [notification], now, ambiguous_after_s)
    attempts = opener.open(notification)
    await opener.write()
    return attempts


class Opener:
    """Opens the next rounds of several notifications in one transaction: their attempts are
    counted in one query, each round is added to the session as it is opened (so that a count
    of live calls made later in the transaction sees it), and all are written in one flush."""

    def __init__(
        self, session: AsyncSession, made: dict[int, int], now: datetime, ambiguous_after_s: float
    ) -> None:
        self._session = session
        self._made = made
        self._now = now
        self._ambiguous_after_s = ambiguous_after_s
        self._opened: list[tuple[Notification, list[Attempt]]] = []

    @classmethod
    async def counting(
        cls,
        session: AsyncSession,
        notifications: list[Notification],
        now: datetime,
        ambiguous_after_s: float,
    ) -> Opener:
        counted = await session.exec(
            select(Attempt.notification_id, func.count())
            .where(col(Attempt.notification_id).in_([n.id for n in notifications]))
            .group_by(col(Attempt.notification_id))
        )
        return cls(session, dict(counted.all()), now, ambiguous_after_s)

    def open(self, notification: Notification) -> list[Attempt]:
        assert notification.id is not None
        made = self._made.get(notification.id, 0)
        attempts = _new_round(notification, made, self._now, self._ambiguous_after_s)
        self._session.add_all(attempts)
        self._opened.append((notification, attempts))
        return attempts

    async def write(self) -> None:
        await self._session.flush()
        for notification, attempts in self._opened:
            for attempt in attempts:
                _log_move(notification, attempt, None, "claimed")


def _new_round(
    notification: Notification, made: int, now: datetime, ambiguous_after_s: float
) -> list[Attempt]:
    assert notification.id is not None
    legs = notification.recipients if _conference(notification) else [None]
    attempts = [
        Attempt(
            notification_id=notification.id,
            campaign_id=notification.campaign_id,
            number=made + i,
            provider=notification.provider,
            channel=Channel.sms if notification.on_fallback else None,
            recipient=recipient,
            status=A.dialing,
            created_at=now,
            next_check_at=now + timedelta(seconds=ambiguous_after_s),
        )
        for i, recipient in enumerate(legs, start=1)
    ]
    move_notification(notification, N.dialing)
    notification.attempts_made += 1
    return attempts


async def load(session: AsyncSession, attempt_ids: list[int]) -> Round | None:
    """The attempts, each locked and then its notification (always in that order), and the legs
    of their round; None if any is gone or they are not of one notification."""
    attempts: list[Attempt] = []
    notification: Notification | None = None
    for attempt_id in attempt_ids:
        attempt = await session.get(Attempt, attempt_id, with_for_update=True)
        if attempt is None:
            return None
        found = await session.get(Notification, attempt.notification_id, with_for_update=True)
        assert found is not None
        if notification is not None and found is not notification:
            return None
        notification = found
        attempts.append(attempt)
    if notification is None:
        return None
    newest = (
        select(Attempt)
        .where(Attempt.notification_id == notification.id)
        .order_by(col(Attempt.number).desc())
        .limit(len(notification.recipients) if _conference(notification) else 1)
    )
    legs = list((await session.exec(newest)).all())
    if not any(leg in legs for leg in attempts):
        legs = list(attempts)  # a late word about an earlier round
    return Round(notification, attempts, sorted(legs, key=lambda leg: leg.number))


async def load_each(session: AsyncSession, attempt_ids: list[int]) -> list[Round | None]:
    """load() for each of these attempts alone: the attempts locked in one query, then their
    notifications in one (in that order, as load). A conference's leg, whose round has other
    legs to read, is loaded by load(). None for one that is gone."""
    attempts = await _locked(session, Attempt, attempt_ids)
    of = [a.notification_id for a in attempts.values()]
    notifications = await _locked(session, Notification, of)
    loaded: list[Round | None] = []
    for attempt_id in attempt_ids:
        attempt = attempts.get(attempt_id)
        notification = notifications.get(attempt.notification_id) if attempt else None
        if attempt is None or notification is None:
            loaded.append(None)
        elif _conference(notification):
            loaded.append(await load(session, [attempt_id]))
        else:
            # One leg: the attempt itself, whether the newest or a late word about an earlier.
            loaded.append(Round(notification, [attempt], [attempt]))
    return loaded


Row = TypeVar("Row", Attempt, Notification)


async def _locked(session: AsyncSession, model: type[Row], ids: list[int]) -> dict[int, Row]:
    """Rows of `model` by id, locked in id order."""
    found = await session.exec(
        select(model).where(col(model.id).in_(ids)).order_by(col(model.id)).with_for_update()
    )
    return {row.id: row for row in found.all() if row.id is not None}


def apply(round_: Round, event: Event, now: datetime, poll_interval_s: float) -> Applied:
    """Apply `event` to each of the round's attempts, then settle the round. What it did to the
    first attempt."""
    before = [a.status for a in round_.attempts]
    results = [_apply_one(round_, a, event, now, poll_interval_s) for a in round_.attempts]
    _settle(round_, now)
    for attempt, was in zip(round_.attempts, before, strict=True):
        if attempt.status is not was:
            _log_move(round_.notification, attempt, was, type(event).__name__)
    return results[0]


def _log_move(
    notification: Notification, attempt: Attempt, was: AttemptStatus | None, event: str
) -> None:
    outcome = attempt.outcome.value if attempt.outcome else None
    shown = f", {outcome}" if outcome else ""
    error = f" ({attempt.error})" if attempt.error and attempt.status is not A.in_progress else ""
    log.info(
        "notification %s attempt %s (%s %s): %s -> %s%s%s",
        notification.id,
        attempt.id,
        attempt.provider,
        attempt.provider_id or "-",
        was.value if was else "new",
        attempt.status.value,
        shown,
        error,
        extra=fields(
            notification_id=notification.id,
            attempt_id=attempt.id,
            provider=attempt.provider,
            provider_id=attempt.provider_id,
            event=event,
            status=attempt.status.value,
            outcome=outcome,
            notification_status=notification.status.value,
            error=attempt.error,
        ),
    )


def _apply_one(
    round_: Round, attempt: Attempt, event: Event, now: datetime, poll_interval_s: float
) -> Applied:
    notification = round_.notification
    if isinstance(event, Placed):
        return _placed(notification, attempt, event, now, poll_interval_s)
    if isinstance(event, Reported):
        return _reported(notification, attempt, event.report, now, poll_interval_s)
    if isinstance(event, WorkerLost):
        if attempt.status is not A.dialing:
            return "ignored"
        move_attempt(attempt, A.reconciling)
        attempt.error = "worker lost during the provider request; awaiting the provider's word"
        return "lost"
    if isinstance(event, GaveUp):
        if attempt.status in FINAL_ATTEMPT:
            return "already final"
        _finish(notification, attempt, event.outcome, now, error=event.error)
        return "gave up"
    return _failed(round_, attempt, event, now, poll_interval_s)


def _placed(
    notification: Notification,
    attempt: Attempt,
    event: Placed,
    now: datetime,
    poll_interval_s: float,
) -> Applied:
    placed = event.answer
    if isinstance(placed, PlacedConference):
        attempt.conference_id = placed.conference_id
        provider_id = placed.calls.get(attempt.recipient or "")
        if provider_id is None:
            # Without its call id this leg cannot be followed; the deadline will close it.
            attempt.error = f"conference {placed.conference_id} named no call for this participant"
            return "placed"
    else:
        provider_id = placed.provider_id
    if attempt.provider_id is None:
        attempt.provider_id = provider_id
    if isinstance(placed, PlacedMessage):
        attempt.parts = placed.parts
    # A callback may have been faster than this answer and finished the attempt already.
    if attempt.status not in FINAL_ATTEMPT:
        _mark_live(notification, attempt, now, poll_interval_s)
    return "placed"


def _failed(
    round_: Round,
    attempt: Attempt,
    event: NotPlaced | MaybePlaced | Refused,
    now: datetime,
    poll_interval_s: float,
) -> Applied:
    notification = round_.notification
    exc = event.error
    description = f"{exc.kind}: {exc.message}"
    notification.last_error = description
    others = [leg for leg in round_.legs if leg not in round_.attempts]
    alone = not any(leg.sent_at is not None and leg.status is not A.not_sent for leg in others)
    rule = error_rule(event, attempt.status, notification.status, alone=alone)
    if rule == "ignore":
        return "ignored"
    attempt.provider_status = f"HTTP {exc.status_code}" if exc.status_code else exc.kind
    if rule in ("requeue", "not_sent"):
        move_attempt(attempt, A.not_sent)
        attempt.error = description
        attempt.next_check_at = None
        if rule == "not_sent":
            return "not sent"
        # Once for all of a round's attempts: the first moves the notification back.
        assert isinstance(event, NotPlaced)
        notification.attempts_made -= 1
        move_notification(notification, N.queued)
        delay = not_sent_delay_s(event.error, in_campaign=notification.campaign_id is not None)
        notification.due_at = now + timedelta(seconds=delay)
        return "requeued"
    if rule == "fail_leg":
        # Another participant may be ringing: this one cannot be sent again on its own.
        _finish(notification, attempt, Outcome.failed, now, error=f"not sent: {description}")
        return "failed"
    if rule == "reconcile":
        if attempt.status is A.dialing:
            move_attempt(attempt, A.reconciling)
        attempt.error = description
        attempt.next_check_at = now + timedelta(seconds=poll_interval_s)
        return "reconciling"
    _finish(notification, attempt, Outcome.rejected, now, error=description)
    return "rejected"


def _reported(
    notification: Notification,
    attempt: Attempt,
    status: StatusReport,
    now: datetime,
    poll_interval_s: float,
) -> Applied:
    if attempt.provider_id is None:
        # The POST was ambiguous or its worker died: the provider's word names the call.
        attempt.provider_id = status.provider_id
    elif attempt.provider_id != status.provider_id:
        log.warning(
            "attempt %s is call %s, not %s; ignored",
            attempt.id,
            attempt.provider_id,
            status.provider_id,
        )
        return "other call"
    if attempt.status in FINAL_ATTEMPT:
        return "already final"
    attempt.provider_status = status.raw_status
    attempt.started_at = status.started_at or attempt.started_at
    if status.outcome is None:
        _mark_live(notification, attempt, now, poll_interval_s)
        return "progress"
    attempt.ended_at = status.ended_at
    attempt.duration_s = status.duration_s
    attempt.cost = status.cost
    if status.cost_later:
        attempt.cost_due_at = now  # dialer.tracking.costs asks, then backs off
    _finish(notification, attempt, status.outcome, now, error=status.error)
    if status.error is not None:
        notification.last_error = status.error
    return "final"


def _mark_live(
    notification: Notification, attempt: Attempt, now: datetime, poll_interval_s: float
) -> None:
    """The provider has the call and it is not over: poll it later unless a callback comes."""
    if attempt.status in (A.dialing, A.reconciling):
        move_attempt(attempt, A.in_progress)
    if notification.status is N.dialing:
        move_notification(notification, N.in_progress)
    attempt.next_check_at = now + timedelta(seconds=poll_interval_s)


def _finish(
    notification: Notification,
    attempt: Attempt,
    outcome: Outcome,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    """Close an attempt with `outcome` and move its notification on: retry later, or final.
    A conference's notification waits for _settle(): every participant's attempt."""
    move_attempt(attempt, A.finished)
    attempt.outcome = outcome
    attempt.next_check_at = None
    if error is not None:
        attempt.error = error
    if channel_of(notification, attempt) is not Channel.conference:
        _decide(notification, outcome, now)


def _decide(notification: Notification, outcome: Outcome, now: datetime) -> None:
    notification.outcome = outcome
    decision = decide_after_attempt(
        # As stored: a finished attempt is recorded whatever rule came after its policy.
        RetryPolicy.model_validate(notification.policy, context=STORED),
        notification.attempts_made,
        outcome,
        now,
        on_fallback=notification.on_fallback,
    )
    if isinstance(decision, Finish):
        move_notification(notification, decision.status)
    elif isinstance(decision, FallBack):
        move_notification(notification, N.queued)
        notification.on_fallback = True
        notification.due_at = now
    else:
        move_notification(notification, N.queued)
        notification.due_at = decision.at


def _settle(round_: Round, now: datetime) -> None:
    """Move a conference's notification on once every participant's attempt is final."""
    notification = round_.notification
    if notification.channel is not Channel.conference or notification.on_fallback:
        return
    if notification.status not in (N.dialing, N.in_progress):
        return
    legs = [leg for leg in round_.legs if leg.status is not A.not_sent]
    if not legs or any(leg.status not in FINAL_ATTEMPT for leg in legs):
        return
    _decide(notification, conference_outcome(legs), now)
