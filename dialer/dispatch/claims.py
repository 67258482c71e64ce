"""The claim: due, queued notifications checked against every rule that may keep them from
being dialled now, and those that pass given their next round of attempts, written `dialing`.
A batch is claimed in one transaction with a handful of statements, whatever its size: the rows
locked in one query, the do-not-contact lists read in one, the attempts counted in one and
written in one flush; each notification's checks are its own and in memory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.rounds import Opener
from dialer.attempts.transitions import move_notification
from dialer.campaigns.gates import CAP_WAIT_S, campaign_gate
from dialer.campaigns.messages import Rendered
from dialer.config import Settings
from dialer.dispatch.pacing import account_at_live_cap
from dialer.models import Attempt, Notification
from dialer.notifications.service import suppress
from dialer.optouts.service import blocked_among, scopes_for
from dialer.scheduling.policies import RetryPolicy
from dialer.scheduling.timing import person_zones, plan_send, window_of
from dialer.vocabulary import NotificationStatus

__all__ = ["claim_batch", "claim_for_dialing"]

log = logging.getLogger(__name__)

N = NotificationStatus
Blocked = set[tuple[str, tuple[str, ...]]]


async def claim_for_dialing(
    session: AsyncSession,
    notification_id: int,
    now: datetime,
    settings: Settings,
    rendered: Rendered | None = None,
) -> tuple[Notification, list[Attempt]] | None:
    """Take a due, queued notification and open its next attempt as `dialing` (a conference:
    one per participant, counted as one against the policy); else None."""
    texts = {notification_id: rendered} if rendered is not None else {}
    return (await claim_batch(session, [notification_id], now, settings, texts)).get(
        notification_id
    )


async def claim_batch(
    session: AsyncSession,
    notification_ids: list[int],
    now: datetime,
    settings: Settings,
    rendered: Mapping[int, Rendered],
) -> dict[int, tuple[Notification, list[Attempt]]]:
    """claim_for_dialing for each of these notifications, in one transaction: those claimed,
    by id. One that is not due, locked by another claim, or kept by a rule is left out (moved
    as the rule says). Whatever one notification's data raises rolls back the batch."""
    found = await session.exec(
        select(Notification)
        .where(col(Notification.id).in_(notification_ids))
        .order_by(col(Notification.id))  # locked in one order, so that batches never deadlock
        .with_for_update(skip_locked=True)
    )
    due = [n for n in found.all() if n.status is N.queued and n.due_at <= now]
    if not due:
        return {}
    wanted = [(number, scopes_for(n.campaign_id)) for n in due for number in n.recipients]
    blocked = await blocked_among(session, wanted)
    opener = await Opener.counting(session, due, now, settings.ambiguous_after_s)
    claimed: dict[int, tuple[Notification, list[Attempt]]] = {}
    for notification in due:
        assert notification.id is not None
        texts = rendered.get(notification.id) or Rendered()
        if await _may_dial(session, notification, now, settings, texts, blocked):
            claimed[notification.id] = notification, opener.open(notification)
    await opener.write()
    return claimed


async def _may_dial(
    session: AsyncSession,
    notification: Notification,
    now: datetime,
    settings: Settings,
    rendered: Rendered,
    blocked: Blocked,
) -> bool:
    """Whether this due, queued notification may be dialled now; if not, it is moved as the
    rule that keeps it says (expired, suppressed, held, deferred, closed)."""
    if notification.expires_at is not None and notification.expires_at <= now:
        move_notification(notification, N.expired)
        notification.last_error = "expired before it could be dialled"
        return False
    scopes = scopes_for(notification.campaign_id)
    if any((number, scopes) in blocked for number in notification.recipients):
        suppress(notification)
        return False
    if await campaign_gate(session, notification, now, rendered) is not None:
        return False
    policy = RetryPolicy.model_validate(notification.policy)
    if _outside_its_window(notification, policy, now):
        return False
    if await account_at_live_cap(session, settings, notification):
        notification.due_at = now + timedelta(seconds=CAP_WAIT_S)
        return False
    if notification.on_fallback:
        if not notification.fallback_text:
            move_notification(notification, N.failed)
            notification.last_error = "no fallback text to send"
            return False
    elif notification.attempts_made >= policy.max_attempts:
        log.error("notification %s is queued with no attempts left", notification.id)
        move_notification(notification, N.expired)
        notification.last_error = "no attempts left"
        return False
    return True


def _outside_its_window(notification: Notification, policy: RetryPolicy, now: datetime) -> bool:
    """A notification with its own calling window (a reminder, say) that is closed now: moved
    to its opening, or expired, as its policy says. (A campaign's contacts keep its schedule.)"""
    if notification.campaign_id is not None or window_of(policy) is None:
        return False
    zones = person_zones(notification.to_number, notification.timezone)
    plan = plan_send(now, policy, zones, notification.expires_at)
    if plan.expired is not None:
        move_notification(notification, N.expired)
        notification.last_error = plan.expired
        return True
    if plan.due_at <= now:
        return False
    notification.due_at = plan.due_at
    return True
