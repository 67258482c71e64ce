"""What a provider's answer to a dial, or the lack of one, means for its attempts.

Certainly not sent: the attempt costs nothing and its notification waits its turn again.
Maybe sent (a timeout, a 5xx): the attempt is reconciled, never sent again. Refused for good:
the attempt is finished `rejected`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dialer.lifecycle import move_attempt, move_notification
from dialer.models import Attempt, Notification
from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    CallRequest,
    ConferenceRequest,
    InsufficientCredit,
    Misconfigured,
    NotSent,
    PlacedCall,
    PlacedConference,
    PlacedMessage,
    ProviderError,
    SmsRequest,
    Transient,
)
from dialer.tracking.service import finish_attempt, mark_live
from dialer.vocabulary import FINAL_ATTEMPT, AttemptStatus, NotificationStatus, Outcome

__all__ = [
    "NeverSent",
    "Placed",
    "Request",
    "Unheard",
    "attempt_tag",
    "not_sent_delay_s",
    "record_placed",
    "record_provider_error",
]

A = AttemptStatus
N = NotificationStatus

Request = CallRequest | SmsRequest | ConferenceRequest
Placed = PlacedCall | PlacedMessage | PlacedConference


def attempt_tag(attempt_id: int) -> str:
    """What a request carries to name its attempt (Xoxzo tags, Voxology external_id), and
    what a lost one is looked up by."""
    return f"attempt-{attempt_id}"


class NeverSent(NotSent):
    """Its job stopped (killed, timed out, cut off from Redis) before the request was cleared
    to leave, as the attempt's unset `sent_at` proves (dialer.dispatch.fence)."""

    retry_after = 0.0


class Unheard(NotSent):
    """Its answer was lost, and the provider, asked well after its timeout, has no record of
    it (dialer.tracking.search)."""

    retry_after = 0.0


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
_CREDIT_PAUSED_DELAY_S = 5.0


def not_sent_delay_s(exc: NotSent) -> float:
    if exc.retry_after:
        return exc.retry_after
    for cls, delay in _NOT_SENT_DELAY_S.items():
        if isinstance(exc, cls):
            return delay
    return 15.0


def record_placed(
    notification: Notification,
    attempt: Attempt,
    placed: Placed,
    now: datetime,
    poll_interval_s: float,
) -> None:
    if isinstance(placed, PlacedConference):
        attempt.conference_id = placed.conference_id
        provider_id = placed.calls.get(attempt.recipient or "")
        if provider_id is None:
            # Without its call id this leg cannot be followed; the deadline will close it.
            attempt.error = f"conference {placed.conference_id} named no call for this participant"
            return
    else:
        provider_id = placed.provider_id
    if attempt.provider_id is None:
        attempt.provider_id = provider_id
    if isinstance(placed, PlacedMessage):
        attempt.parts = placed.parts
    # A callback may have been faster than this answer and finished the attempt already.
    if attempt.status not in FINAL_ATTEMPT:
        mark_live(notification, attempt, now, poll_interval_s)


def record_provider_error(
    notification: Notification,
    attempt: Attempt,
    exc: ProviderError,
    now: datetime,
    poll_interval_s: float,
    *,
    alone: bool = True,
) -> None:
    """`alone`: no other attempt of this round can have rung anyone, so a request that was
    certainly not sent puts the whole notification back in the queue."""
    description = f"{exc.kind}: {exc.message}"
    notification.last_error = description
    # `reconciling` too: a slow wait for the slot can outlast ambiguous_after_s, and the check
    # that then marks the attempt lost must not outrank the provider's own "not sent".
    if attempt.status not in (A.dialing, A.reconciling):
        return
    attempt.provider_status = f"HTTP {exc.status_code}" if exc.status_code else exc.kind
    requeue = alone and notification.status is N.dialing
    if isinstance(exc, NotSent) and (requeue or notification.status is N.queued):
        move_attempt(attempt, A.not_sent)
        attempt.error = description
        attempt.next_check_at = None
        if requeue:  # once for all of a round's attempts
            notification.attempts_made -= 1
            move_notification(notification, N.queued)
            delay = not_sent_delay_s(exc)
            if isinstance(exc, InsufficientCredit) and notification.campaign_id is not None:
                # Its campaign is paused for credit (dialer.campaigns.credit) and holds it;
                # when the balance is back, it goes with the rest.
                delay = _CREDIT_PAUSED_DELAY_S
            notification.due_at = now + timedelta(seconds=delay)
    elif isinstance(exc, NotSent):
        # Another participant may be ringing: this one cannot be sent again on its own.
        finish_attempt(notification, attempt, Outcome.failed, now, error=f"not sent: {description}")
    elif isinstance(exc, Ambiguous):
        if attempt.status is A.dialing:
            move_attempt(attempt, A.reconciling)
        attempt.error = description
        attempt.next_check_at = now + timedelta(seconds=poll_interval_s)
    else:
        finish_attempt(notification, attempt, Outcome.rejected, now, error=description)
