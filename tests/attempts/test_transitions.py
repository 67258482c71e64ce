from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.attempts.rules import FallBack, Finish, Retry, decide_after_attempt
from dialer.attempts.transitions import (
    ATTEMPT_TRANSITIONS,
    NOTIFICATION_TRANSITIONS,
    IllegalTransition,
    move_attempt,
    move_notification,
)
from dialer.models import Attempt, Notification
from dialer.scheduling.policies import RetryPolicy
from dialer.vocabulary import AttemptStatus, NotificationStatus, Outcome

N = NotificationStatus
A = AttemptStatus
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _notification(status: NotificationStatus) -> Notification:
    return Notification(
        id=1,
        provider="xoxzo",
        channel="tts",
        to_number="+819012345670",
        from_number="+81312345678",
        status=status,
    )


def test_every_status_has_a_row() -> None:
    assert set(NOTIFICATION_TRANSITIONS) == set(N)
    assert set(ATTEMPT_TRANSITIONS) == set(A)


@pytest.mark.parametrize("current", list(N))
@pytest.mark.parametrize("target", list(N))
def test_notification_moves_only_as_the_table_allows(current: N, target: N) -> None:
    notification = _notification(current)
    if target in NOTIFICATION_TRANSITIONS[current]:
        move_notification(notification, target)
        assert notification.status is target
    else:
        with pytest.raises(IllegalTransition):
            move_notification(notification, target)
        assert notification.status is current


@pytest.mark.parametrize("current", list(A))
@pytest.mark.parametrize("target", list(A))
def test_attempt_moves_only_as_the_table_allows(current: A, target: A) -> None:
    attempt = Attempt(id=1, notification_id=1, number=1, provider="xoxzo", status=current)
    if target in ATTEMPT_TRANSITIONS[current]:
        move_attempt(attempt, target)
        assert attempt.status is target
    else:
        with pytest.raises(IllegalTransition):
            move_attempt(attempt, target)


def test_final_states_are_dead_ends_and_stamp_finished_at() -> None:
    notification = _notification(N.in_progress)
    move_notification(notification, N.delivered)
    assert notification.finished_at is not None
    for final in (N.delivered, N.failed, N.canceled, N.expired):
        assert NOTIFICATION_TRANSITIONS[final] == frozenset()


THREE = RetryPolicy(max_attempts=3, retry_delay_s=60)
EXPO = RetryPolicy(max_attempts=4, retry_delay_s=60, backoff="exponential")


@pytest.mark.parametrize(
    ("policy", "made", "outcome", "expected"),
    [
        (THREE, 1, Outcome.answered, Finish(N.delivered)),
        (THREE, 1, Outcome.no_answer, Retry(NOW + timedelta(seconds=60))),
        (THREE, 2, Outcome.busy, Retry(NOW + timedelta(seconds=60))),
        (THREE, 3, Outcome.no_answer, Finish(N.failed)),
        (THREE, 1, Outcome.failed, Retry(NOW + timedelta(seconds=60))),
        (THREE, 1, Outcome.rejected, Finish(N.failed)),
        (THREE, 1, Outcome.unknown, Finish(N.failed)),
        (THREE, 1, Outcome.voicemail, Finish(N.delivered)),
        (
            RetryPolicy(max_attempts=3, retry_on=[Outcome.voicemail]),
            1,
            Outcome.voicemail,
            Retry(NOW + timedelta(seconds=300)),
        ),
        (
            RetryPolicy(max_attempts=3, retry_on=[Outcome.busy]),
            1,
            Outcome.no_answer,
            Finish(N.failed),
        ),
        (RetryPolicy(), 1, Outcome.no_answer, Finish(N.failed)),
        (EXPO, 1, Outcome.no_answer, Retry(NOW + timedelta(seconds=60))),
        (EXPO, 2, Outcome.no_answer, Retry(NOW + timedelta(seconds=120))),
        (EXPO, 3, Outcome.no_answer, Retry(NOW + timedelta(seconds=240))),
        (EXPO, 4, Outcome.no_answer, Finish(N.failed)),
    ],
)
def test_decide_after_attempt(
    policy: RetryPolicy, made: int, outcome: Outcome, expected: Retry | Finish
) -> None:
    assert decide_after_attempt(policy, made, outcome, NOW) == expected


def test_unknown_is_never_retried_even_when_the_policy_names_it() -> None:
    policy = RetryPolicy(max_attempts=5, retry_on=list(Outcome))
    assert decide_after_attempt(policy, 1, Outcome.unknown, NOW) == Finish(N.failed)


FALLS_BACK = RetryPolicy(
    max_attempts=2, retry_on=[Outcome.no_answer], fallback_on=[Outcome.no_answer, Outcome.failed]
)


@pytest.mark.parametrize(
    ("made", "outcome", "expected"),
    [
        (1, Outcome.no_answer, Retry(NOW + timedelta(seconds=300))),
        (2, Outcome.no_answer, FallBack()),
        (1, Outcome.failed, FallBack()),
        (1, Outcome.busy, Finish(N.failed)),
        (1, Outcome.answered, Finish(N.delivered)),
        (1, Outcome.unknown, Finish(N.failed)),
        (1, Outcome.rejected, Finish(N.failed)),
    ],
)
def test_the_fallback_follows_the_last_call_that_missed(
    made: int, outcome: Outcome, expected: Retry | FallBack | Finish
) -> None:
    assert decide_after_attempt(FALLS_BACK, made, outcome, NOW) == expected


@pytest.mark.parametrize("outcome", [Outcome.failed, Outcome.no_answer, Outcome.rejected])
def test_nothing_follows_the_fallback_itself(outcome: Outcome) -> None:
    decision = decide_after_attempt(FALLS_BACK, 2, outcome, NOW, on_fallback=True)
    assert decision == Finish(N.failed)
    delivered = decide_after_attempt(FALLS_BACK, 2, Outcome.delivered, NOW, on_fallback=True)
    assert delivered == Finish(N.delivered)


def test_unknown_never_falls_back_even_when_the_policy_names_it() -> None:
    policy = RetryPolicy(fallback_on=list(Outcome))
    assert decide_after_attempt(policy, 1, Outcome.unknown, NOW) == Finish(N.failed)
    assert decide_after_attempt(policy, 1, Outcome.opted_out, NOW) == Finish(N.failed)
