"""Allowed status transitions for notifications, attempts and campaigns.

Each transition table is enforced by one function; nothing else assigns `status`.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from dialer.logs import fields
from dialer.models import Attempt, Campaign, Notification, utcnow
from dialer.vocabulary import (
    FINAL_ATTEMPT,
    FINAL_NOTIFICATION,
    AttemptStatus,
    CampaignStatus,
    NotificationStatus,
)

__all__ = [
    "ATTEMPT_TRANSITIONS",
    "CAMPAIGN_TRANSITIONS",
    "NOTIFICATION_TRANSITIONS",
    "IllegalTransition",
    "move_attempt",
    "move_campaign",
    "move_notification",
]

log = logging.getLogger(__name__)

N = NotificationStatus
A = AttemptStatus

NOTIFICATION_TRANSITIONS: dict[NotificationStatus, frozenset[NotificationStatus]] = {
    # held <-> queued as its campaign pauses and runs; campaigns move contacts in bulk.
    N.held: frozenset({N.queued, N.canceled, N.expired}),
    # queued -> failed: a campaign message that cannot be rendered.
    N.queued: frozenset({N.held, N.dialing, N.canceled, N.expired, N.suppressed, N.failed}),
    # dialing -> queued: the provider certainly did not act (429, no credit); try later.
    N.dialing: frozenset({N.in_progress, N.queued, N.delivered, N.failed}),
    N.in_progress: frozenset({N.queued, N.delivered, N.failed}),
    N.delivered: frozenset(),
    N.failed: frozenset(),
    N.canceled: frozenset(),
    N.expired: frozenset(),
    N.suppressed: frozenset(),
}

C = CampaignStatus

CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    C.draft: frozenset({C.scheduled, C.running, C.canceled}),
    C.scheduled: frozenset({C.running, C.paused, C.canceled}),
    C.running: frozenset({C.paused, C.completed, C.canceled}),
    C.paused: frozenset({C.scheduled, C.running, C.canceled}),
    C.completed: frozenset(),
    C.canceled: frozenset(),
}

ATTEMPT_TRANSITIONS: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    A.dialing: frozenset({A.in_progress, A.reconciling, A.finished, A.not_sent}),
    # reconciling -> not_sent: the request it was waiting on came back certainly not sent.
    A.reconciling: frozenset({A.in_progress, A.finished, A.not_sent}),
    A.in_progress: frozenset({A.finished}),
    A.finished: frozenset(),
    A.not_sent: frozenset(),
}

if {s for s, nxt in NOTIFICATION_TRANSITIONS.items() if not nxt} != FINAL_NOTIFICATION:
    raise AssertionError("FINAL_NOTIFICATION is not the table's set of dead ends")
if {s for s, nxt in ATTEMPT_TRANSITIONS.items() if not nxt} != FINAL_ATTEMPT:
    raise AssertionError("FINAL_ATTEMPT is not the table's set of dead ends")


class IllegalTransition(Exception):
    """A status change that the transition table does not allow."""


def move_notification(notification: Notification, to: NotificationStatus) -> None:
    _check(NOTIFICATION_TRANSITIONS, notification.status, to, f"notification {notification.id}")
    notification.status = to
    notification.updated_at = utcnow()
    if to in FINAL_NOTIFICATION:
        notification.finished_at = notification.updated_at


def move_attempt(attempt: Attempt, to: AttemptStatus) -> None:
    _check(ATTEMPT_TRANSITIONS, attempt.status, to, f"attempt {attempt.id}")
    attempt.status = to
    attempt.updated_at = utcnow()


def move_campaign(campaign: Campaign, to: CampaignStatus) -> None:
    _check(CAMPAIGN_TRANSITIONS, campaign.status, to, f"campaign {campaign.id}")
    was = campaign.status
    log.info(
        "campaign %s: %s -> %s",
        campaign.id,
        was.value,
        to.value,
        extra=fields(campaign_id=campaign.id, was=was.value, status=to.value),
    )
    campaign.status = to
    campaign.updated_at = utcnow()
    if to is C.running and campaign.started_at is None:
        campaign.started_at = campaign.updated_at
    if not CAMPAIGN_TRANSITIONS[to]:
        campaign.finished_at = campaign.updated_at


S = TypeVar("S", NotificationStatus, AttemptStatus, CampaignStatus)


def _check(table: dict[S, frozenset[S]], current: S, to: S, what: str) -> None:
    if to not in table[current]:
        raise IllegalTransition(f"{what}: {current} -> {to} is not allowed")
