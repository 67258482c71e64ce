"""The pure rules of tracking: what a status check does with an open attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.models import Attempt
from dialer.tracking.service import plan_check
from dialer.vocabulary import AttemptStatus

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
    plan = plan_check(attempt, NOW, ambiguous_after_s=120, reconcile_deadline_s=3600)
    assert plan.action == action
