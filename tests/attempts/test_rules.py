"""The attempts' pure rules: status checks, provider errors, conference outcomes, not-sent waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.attempts.events import MaybePlaced, NeverSent, NotPlaced, Refused, Unheard
from dialer.attempts.rules import (
    conference_outcome,
    error_rule,
    not_sent_delay_s,
    plan_check,
)
from dialer.models import Attempt
from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    InsufficientCredit,
    NotSent,
    RateLimited,
    Rejected,
    Transient,
)
from dialer.vocabulary import AttemptStatus, NotificationStatus, Outcome

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
A = AttemptStatus


@pytest.mark.parametrize(
    ("status", "provider_id", "sent", "age_s", "action"),
    [
        (A.finished, "c1", True, 10, "none"),
        (A.not_sent, None, False, 10, "none"),
        (A.in_progress, "c1", True, 10, "ask"),
        (A.in_progress, "c1", True, 99999, "ask"),
        (A.reconciling, "c1", True, 99999, "ask"),
        (A.dialing, None, True, 10, "wait"),
        (A.dialing, None, True, 120, "reconcile"),
        (A.dialing, None, True, 3600, "give_up"),
        (A.dialing, None, False, 10, "wait"),
        (A.dialing, None, False, 120, "take_back"),
        (A.dialing, None, False, 99999, "take_back"),
        (A.reconciling, None, True, 10, "wait"),
        (A.reconciling, None, True, 3599, "wait"),
        (A.reconciling, None, True, 3600, "give_up"),
    ],
)
def test_plan_check(
    status: A, provider_id: str | None, sent: bool, age_s: float, action: str
) -> None:
    attempt = Attempt(
        notification_id=1,
        number=1,
        provider="xoxzo",
        status=status,
        provider_id=provider_id,
        created_at=NOW - timedelta(seconds=age_s),
        sent_at=NOW - timedelta(seconds=age_s) if sent else None,
    )
    assert plan_check(attempt, NOW, ambiguous_after_s=120, reconcile_deadline_s=3600) == action


Ntf = NotificationStatus
NOT_SENT = NotPlaced(RateLimited("slow down", retry_after=None))
MAYBE = MaybePlaced(Ambiguous("timed out"))
REFUSED = Refused(Rejected("bad number"))


@pytest.mark.parametrize(
    ("event", "attempt", "notification", "alone", "rule"),
    [
        # Certainly not sent, nobody else of the round can have rung: the round waits again.
        (NOT_SENT, A.dialing, Ntf.dialing, True, "requeue"),
        (NOT_SENT, A.reconciling, Ntf.dialing, True, "requeue"),
        # The round went back to the queue with an earlier leg: this leg just costs nothing.
        (NOT_SENT, A.dialing, Ntf.queued, True, "not_sent"),
        (NOT_SENT, A.dialing, Ntf.queued, False, "not_sent"),
        # Another leg may be ringing: this one fails, it is never sent again on its own.
        (NOT_SENT, A.dialing, Ntf.dialing, False, "fail_leg"),
        (NOT_SENT, A.dialing, Ntf.in_progress, True, "fail_leg"),
        (MAYBE, A.dialing, Ntf.dialing, True, "reconcile"),
        (MAYBE, A.reconciling, Ntf.in_progress, False, "reconcile"),
        (REFUSED, A.dialing, Ntf.dialing, True, "reject"),
        (REFUSED, A.reconciling, Ntf.dialing, False, "reject"),
        # The attempt's own answer came first: an error changes nothing.
        (NOT_SENT, A.in_progress, Ntf.in_progress, True, "ignore"),
        (MAYBE, A.finished, Ntf.delivered, True, "ignore"),
        (REFUSED, A.not_sent, Ntf.queued, True, "ignore"),
    ],
)
def test_error_rule(
    event: NotPlaced | MaybePlaced | Refused,
    attempt: A,
    notification: NotificationStatus,
    alone: bool,
    rule: str,
) -> None:
    assert error_rule(event, attempt, notification, alone=alone) == rule


def _leg(outcome: Outcome | None) -> Attempt:
    return Attempt(notification_id=1, number=1, provider="xoxzo", outcome=outcome)


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([Outcome.answered, Outcome.answered], Outcome.answered),
        ([Outcome.answered, Outcome.answered, Outcome.busy], Outcome.answered),
        ([Outcome.answered, Outcome.no_answer], Outcome.no_answer),
        ([Outcome.busy, Outcome.no_answer], Outcome.busy),
        ([Outcome.answered, None], Outcome.unknown),
        ([Outcome.answered], Outcome.unknown),
    ],
)
def test_conference_outcome(outcomes: list[Outcome | None], expected: Outcome) -> None:
    assert conference_outcome([_leg(o) for o in outcomes]) == expected


@pytest.mark.parametrize(
    ("error", "in_campaign", "delay"),
    [
        (RateLimited("slow down", retry_after=7.0), False, 7.0),
        (InsufficientCredit("no credit", required=None), False, 300.0),
        (InsufficientCredit("no credit", required=None), True, 5.0),
        (AuthFailed("bad token"), False, 300.0),
        (Transient("connection reset"), False, 15.0),
        (NeverSent("killed"), False, 0.0),
        (Unheard("no record"), False, 0.0),
    ],
)
def test_not_sent_delay(error: NotSent, in_campaign: bool, delay: float) -> None:
    assert not_sent_delay_s(error, in_campaign=in_campaign) == delay
