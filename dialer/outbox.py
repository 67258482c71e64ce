"""The outbox: events written in the same transaction as the change they report, for
dialer.webhooks to deliver. An attempt or a notification reaching its final status is seen at
flush, whatever path made the change; a campaign's end is written by dialer.campaigns.endings
through add_event(). Every session of dialer.db is an EventSession."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session

from dialer.models import (
    Attempt,
    Campaign,
    Notification,
    WebhookEvent,
    channel_of,
    utcnow,
)
from dialer.vocabulary import FINAL_ATTEMPT, FINAL_NOTIFICATION

__all__ = [
    "GIVE_UP_AFTER",
    "EventSession",
    "add_event",
    "attempt_body",
    "iso_or_none",
    "notification_body",
]

# Tries stop a day after the event: long enough for a receiver's outage to be mended.
GIVE_UP_AFTER = timedelta(hours=24)


class EventSession(Session):
    """The dialer's sessions: every flush adds the webhook events its changes call for."""


def _became(obj: Any, final: frozenset[Any]) -> bool:
    """`obj.status` is final now and was not when loaded."""
    history = sa.inspect(obj).attrs.status.history
    if not history.added:
        return False
    before = history.deleted[0] if history.deleted else None
    return history.added[0] in final and before not in final


def iso_or_none(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def notification_body(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "campaign_id": notification.campaign_id,
        "row": notification.row_number,
        "channel": notification.channel.value,
        "to": notification.to_number,
        "status": notification.status.value,
        "outcome": notification.outcome.value if notification.outcome else None,
        "answer": notification.answer,
        "attempts": notification.attempts_made,
        "last_error": notification.last_error,
        "created_at": iso_or_none(notification.created_at),
        "finished_at": iso_or_none(notification.finished_at),
    }


def attempt_body(attempt: Attempt, notification: Notification) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "number": attempt.number,
        "channel": channel_of(notification, attempt).value,
        "to": attempt.recipient or notification.to_number,
        "status": attempt.status.value,
        "outcome": attempt.outcome.value if attempt.outcome else None,
        "answer": attempt.answer,
        "provider": attempt.provider,
        "provider_id": attempt.provider_id,
        "provider_status": attempt.provider_status,
        "error": attempt.error,
        "cost": attempt.cost,
        "duration_s": attempt.duration_s,
        "started_at": iso_or_none(attempt.started_at),
        "ended_at": iso_or_none(attempt.ended_at),
    }


def _endpoint_of(session: Session, notification: Notification) -> int | None:
    if notification.campaign_id is None:
        return notification.webhook_id
    campaign = session.get(Campaign, notification.campaign_id)
    return campaign.webhook_id if campaign is not None else None


def add_event(session: Session, endpoint_id: int, kind: str, subject: dict[str, Any]) -> None:
    now = utcnow()
    body = {"type": kind, "created_at": now.isoformat(), **subject}
    session.add(
        WebhookEvent(
            endpoint_id=endpoint_id,
            kind=kind,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            next_try_at=now,
            give_up_at=now + GIVE_UP_AFTER,
            created_at=now,
        )
    )


@event.listens_for(EventSession, "before_flush")
def _write_events(session: Session, _context: Any, _instances: Any) -> None:
    # Changes of rows already written: a row created final (a suppressed notification, say)
    # is answered in the response that creates it. Attempts first: an attempt.finished comes
    # before the notification.final it caused (events go out in the order they were written).
    changed = list(session.dirty)
    for obj in changed:
        if isinstance(obj, Attempt) and _became(obj, FINAL_ATTEMPT):
            notification = session.get(Notification, obj.notification_id)
            if notification is None:
                continue
            endpoint = _endpoint_of(session, notification)
            if endpoint is not None:
                subject = {
                    "attempt": attempt_body(obj, notification),
                    "notification": notification_body(notification),
                }
                add_event(session, endpoint, "attempt.finished", subject)
    for obj in changed:
        if isinstance(obj, Notification) and _became(obj, FINAL_NOTIFICATION):
            endpoint = _endpoint_of(session, obj)
            if endpoint is not None:
                add_event(
                    session,
                    endpoint,
                    "notification.final",
                    {"notification": notification_body(obj)},
                )
    # campaign.finished is written by dialer.campaigns.endings, once nothing of it is ringing.
