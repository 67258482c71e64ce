"""The attempts' pure rules: what follows a finished attempt, what a provider's error does to
a round, what a status check does, how a conference ended. No database, no clock: each is
table-tested (tests/attempts/test_rules.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from dialer.attempts.events import MaybePlaced, NeverSent, NotPlaced, Refused, Unheard
from dialer.models import Attempt
from dialer.providers.base import AuthFailed, InsufficientCredit, Misconfigured, NotSent, Transient
from dialer.scheduling.policies import RetryPolicy
from dialer.vocabulary import FINAL_ATTEMPT, AttemptStatus, NotificationStatus, Outcome

__all__ = [
    "FALLBACK_OUTCOMES",
    "CheckAction",
    "ErrorRule",
    "FallBack",
    "Finish",
    "Retry",
    "conference_outcome",
    "decide_after_attempt",
    "error_rule",
    "not_sent_delay_s",
    "past_deadline",
    "plan_check",
]

A = AttemptStatus
N = NotificationStatus


@dataclass(frozen=True)
class Retry:
    at: datetime


@dataclass(frozen=True)
class FallBack:
    """Calls are over without reaching the person: send the fallback SMS now."""


@dataclass(frozen=True)
class Finish:
    status: NotificationStatus


# Outcomes we never retry whatever the policy says: the person was reached, the message can
# never succeed, or we cannot tell whether the phone rang (never ring twice by accident).
_DELIVERED = frozenset({Outcome.answered, Outcome.delivered})
_NEVER_RETRIED = frozenset({Outcome.rejected, Outcome.unknown, Outcome.opted_out})
# A fallback text follows a call that certainly did not reach the person, or reached a machine;
# never one that may have been heard (unknown) or can never succeed (rejected, opted out).
FALLBACK_OUTCOMES = frozenset({Outcome.no_answer, Outcome.busy, Outcome.failed, Outcome.voicemail})


def decide_after_attempt(
    policy: RetryPolicy,
    attempts_made: int,
    outcome: Outcome,
    now: datetime,
    *,
    on_fallback: bool = False,
) -> Retry | FallBack | Finish:
    """What a notification does once its latest counted attempt has finished with `outcome`.
    `on_fallback`: that attempt was the fallback SMS, and nothing follows it."""
    if outcome in _DELIVERED:
        return Finish(N.delivered)
    if on_fallback:
        return Finish(N.failed)
    falls_back = outcome in policy.fallback_on and outcome in FALLBACK_OUTCOMES
    if outcome in _NEVER_RETRIED or outcome not in policy.retry_on:
        if falls_back:
            return FallBack()
        return Finish(N.delivered if outcome is Outcome.voicemail else N.failed)
    if attempts_made >= policy.max_attempts:
        return FallBack() if falls_back else Finish(N.failed)
    factor = 2 ** (attempts_made - 1) if policy.backoff == "exponential" else 1
    delay = policy.outcome_delay_s.get(outcome, policy.retry_delay_s)
    return Retry(at=now + timedelta(seconds=delay * factor))


# How long a notification waits after the provider certainly did not act, when the provider
# names no wait itself. Credit and credentials need a person; a network blip does not.
_NOT_SENT_DELAY_S: dict[type[NotSent], float] = {
    InsufficientCredit: 300.0,
    AuthFailed: 300.0,
    Misconfigured: 300.0,
    Transient: 15.0,
    NeverSent: 0.0,
    Unheard: 0.0,
}
# A campaign contact refused for credit: its campaign is paused for credit
# (dialer.campaigns.credit) and holds it; when the balance is back, it goes with the rest.
_CREDIT_PAUSED_DELAY_S = 5.0


def not_sent_delay_s(exc: NotSent, *, in_campaign: bool = False) -> float:
    if exc.retry_after:
        return exc.retry_after
    if in_campaign and isinstance(exc, InsufficientCredit):
        return _CREDIT_PAUSED_DELAY_S
    for cls, delay in _NOT_SENT_DELAY_S.items():
        if isinstance(exc, cls):
            return delay
    return 15.0


# ignore: the attempt has moved on (its answer came first); not_sent: it costs nothing, and
# `requeue` puts the notification back in the queue (once for the whole round); fail_leg:
# another leg of the round may be ringing, so this one cannot be sent again alone; reconcile:
# maybe sent, never sent again; reject: finished `rejected`.
ErrorRule = Literal["ignore", "not_sent", "requeue", "fail_leg", "reconcile", "reject"]


def error_rule(
    event: NotPlaced | MaybePlaced | Refused,
    attempt: AttemptStatus,
    notification: NotificationStatus,
    *,
    alone: bool,
) -> ErrorRule:
    """What a provider's error does to one attempt of a round. `alone`: no other attempt of the
    round can have rung anyone. `reconciling` counts too: a slow wait for the slot can outlast
    ambiguous_after_s, and the check that then marks the attempt lost must not outrank the
    provider's own "not sent"."""
    if attempt not in (A.dialing, A.reconciling):
        return "ignore"
    if isinstance(event, NotPlaced):
        if alone and notification is N.dialing:
            return "requeue"
        return "not_sent" if notification is N.queued else "fail_leg"
    if isinstance(event, MaybePlaced):
        return "reconcile"
    return "reject"


def conference_outcome(legs: list[Attempt]) -> Outcome:
    """A conference took place if two people answered; otherwise the first leg that did not."""
    if sum(1 for leg in legs if leg.outcome is Outcome.answered) >= 2:
        return Outcome.answered
    missed = (leg.outcome for leg in legs if leg.outcome is not Outcome.answered)
    return next((outcome for outcome in missed if outcome is not None), Outcome.unknown)


# What a status check does with an open attempt: ask the provider, take it back (never cleared
# to leave), mark its worker lost and reconcile, wait, give up, or nothing (already final).
CheckAction = Literal["ask", "take_back", "reconcile", "wait", "give_up", "none"]


def plan_check(
    attempt: Attempt,
    now: datetime,
    *,
    ambiguous_after_s: float,
    reconcile_deadline_s: float,
) -> CheckAction:
    if attempt.status in FINAL_ATTEMPT:
        return "none"
    if attempt.provider_id:
        # The provider knows the call: its word comes before any deadline of ours.
        return "ask"
    age = (now - attempt.created_at).total_seconds()
    if attempt.status is A.dialing and attempt.sent_at is None:
        # Its request was never cleared to leave: once its job has had time enough, nobody
        # was rung, however late it is, and the attempt is taken back (dialer.attempts.fence).
        return "take_back" if age >= ambiguous_after_s else "wait"
    if age >= reconcile_deadline_s:
        return "give_up"
    if attempt.status is A.dialing:
        # Still `dialing` this late: its worker died around the POST. Never resend; reconcile.
        return "reconcile" if age >= ambiguous_after_s else "wait"
    return "wait"


def past_deadline(attempt: Attempt, now: datetime, reconcile_deadline_s: float) -> bool:
    return (now - attempt.created_at).total_seconds() >= reconcile_deadline_s
