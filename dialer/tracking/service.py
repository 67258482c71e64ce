"""Status updates for attempts, idempotent and monotonic, and what a finished attempt means.

Callbacks and polls both arrive here as a `StatusReport`; duplicates and late ones change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.bounds import STORED
from dialer.campaigns.service import INSUFFICIENT_CREDIT, pause_if_live
from dialer.lifecycle import FallBack, Finish, decide_after_attempt, move_attempt, move_notification
from dialer.models import Attempt, Notification, channel_of
from dialer.optouts.service import block_number
from dialer.providers.base import StatusReport
from dialer.scheduling.policies import RetryPolicy
from dialer.vocabulary import (
    FINAL_ATTEMPT,
    AttemptStatus,
    Channel,
    NotificationStatus,
    Outcome,
    PauseKind,
)

__all__ = [
    "CheckPlan",
    "apply_call_status",
    "apply_report",
    "conference_outcome",
    "finish_attempt",
    "load_for_update",
    "mark_live",
    "past_deadline",
    "plan_check",
    "settle_conference",
]

log = logging.getLogger(__name__)

A = AttemptStatus
N = NotificationStatus


async def load_for_update(
    session: AsyncSession, attempt_id: int
) -> tuple[Attempt, Notification] | None:
    attempt = await session.get(Attempt, attempt_id, with_for_update=True)
    if attempt is None:
        return None
    notification = await session.get(Notification, attempt.notification_id, with_for_update=True)
    assert notification is not None
    return attempt, notification


def finish_attempt(
    notification: Notification,
    attempt: Attempt,
    outcome: Outcome,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    """Close an attempt with `outcome` and move its notification on: retry later, or final.
    A conference's notification waits for settle_conference(): every participant's attempt."""
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


def conference_outcome(legs: list[Attempt]) -> Outcome:
    """A conference took place if two people answered; otherwise the first leg that did not."""
    if sum(1 for leg in legs if leg.outcome is Outcome.answered) >= 2:
        return Outcome.answered
    missed = (leg.outcome for leg in legs if leg.outcome is not Outcome.answered)
    return next((outcome for outcome in missed if outcome is not None), Outcome.unknown)


async def settle_conference(
    session: AsyncSession, notification: Notification, now: datetime
) -> bool:
    """Move a conference's notification on once every participant's attempt is final."""
    if notification.channel is not Channel.conference or notification.on_fallback:
        return False
    if notification.status not in (N.dialing, N.in_progress):
        return False
    stmt = (
        select(Attempt)
        .where(Attempt.notification_id == notification.id, Attempt.status != A.not_sent)
        .order_by(col(Attempt.number))
    )
    legs = list((await session.exec(stmt)).all())
    if not legs or any(leg.status not in FINAL_ATTEMPT for leg in legs):
        return False
    _decide(notification, conference_outcome(legs), now)
    return True


def mark_live(
    notification: Notification, attempt: Attempt, now: datetime, poll_interval_s: float
) -> None:
    """The provider has the call and it is not over: poll it later unless a callback comes."""
    if attempt.status in (A.dialing, A.reconciling):
        move_attempt(attempt, A.in_progress)
    if notification.status is N.dialing:
        move_notification(notification, N.in_progress)
    attempt.next_check_at = now + timedelta(seconds=poll_interval_s)


def apply_call_status(
    notification: Notification,
    attempt: Attempt,
    status: StatusReport,
    now: datetime,
    poll_interval_s: float,
) -> str:
    """Apply a provider status; returns "final", "progress" or why it changed nothing."""
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
        mark_live(notification, attempt, now, poll_interval_s)
        return "progress"
    attempt.ended_at = status.ended_at
    attempt.duration_s = status.duration_s
    attempt.cost = status.cost
    if status.cost_later:
        attempt.cost_due_at = now  # dialer.tracking.costs asks, then backs off
    finish_attempt(notification, attempt, status.outcome, now, error=status.error)
    if status.error is not None:
        notification.last_error = status.error
    return "final"


async def apply_report(
    session: AsyncSession,
    notification: Notification,
    attempt: Attempt,
    report: StatusReport,
    now: datetime,
    poll_interval_s: float,
) -> str:
    """Apply a provider's report; a recipient who opted out goes on the do-not-contact list."""
    result = apply_call_status(notification, attempt, report, now, poll_interval_s)
    if result == "final":
        await settle_conference(session, notification, now)
    if result == "final" and report.out_of_credit and notification.campaign_id is not None:
        # The credit watcher resumes it once the balance covers it again.
        reason = f"{INSUFFICIENT_CREDIT}: {report.error}"
        await pause_if_live(session, notification.campaign_id, reason, PauseKind.credit)
    if result == "final" and report.outcome is Outcome.opted_out:
        await block_number(
            session,
            notification.to_number,
            source=f"{attempt.provider} opt-out",
            reason=f"{attempt.provider} reported {report.raw_status}",
        )
    return result


@dataclass(frozen=True)
class CheckPlan:
    """What a status check does with an open attempt: ask the provider, wait, or give up."""

    action: str  # "ask" | "take_back" | "reconcile" | "wait" | "give_up" | "none"


def plan_check(
    attempt: Attempt,
    now: datetime,
    *,
    ambiguous_after_s: float,
    reconcile_deadline_s: float,
) -> CheckPlan:
    if attempt.status in FINAL_ATTEMPT:
        return CheckPlan("none")
    if attempt.provider_id:
        # The provider knows the call: its word comes before any deadline of ours.
        return CheckPlan("ask")
    age = (now - attempt.created_at).total_seconds()
    if attempt.status is A.dialing and attempt.sent_at is None:
        # Its request was never cleared to leave: once its job has had time enough, nobody
        # was rung, however late it is, and the attempt is taken back (dialer.dispatch.fence).
        return CheckPlan("take_back" if age >= ambiguous_after_s else "wait")
    if age >= reconcile_deadline_s:
        return CheckPlan("give_up")
    if attempt.status is A.dialing:
        # Still `dialing` this late: its worker died around the POST. Never resend; reconcile.
        return CheckPlan("reconcile" if age >= ambiguous_after_s else "wait")
    return CheckPlan("wait")


def past_deadline(attempt: Attempt, now: datetime, reconcile_deadline_s: float) -> bool:
    return (now - attempt.created_at).total_seconds() >= reconcile_deadline_s
