"""The outbox: events written in the same transaction as the change they report, for
dialer.webhooks to deliver. An attempt or a notification reaching its final status is seen at
flush, whatever path made the change; a campaign's end is written by dialer.campaigns.endings
through add_event(). Every session of dialer.db is an EventSession."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel

from dialer.metrics import ATTEMPTS
from dialer.models import (
    Attempt,
    Campaign,
    CampaignAnswer,
    CampaignMinute,
    CampaignTally,
    Notification,
    WebhookEvent,
    channel_of,
    utcnow,
)
from dialer.payloads import AttemptEvent, NotificationEvent
from dialer.vocabulary import FINAL_ATTEMPT, FINAL_NOTIFICATION, EventKind

__all__ = [
    "GIVE_UP_AFTER",
    "EventSession",
    "Tally",
    "add_event",
    "add_tallies",
    "attempt_event",
    "count_finished_attempts",
    "forget_ended_since",
    "noted_ended",
    "notification_event",
    "tally_key",
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


def notification_event(notification: Notification) -> NotificationEvent:
    assert notification.id is not None
    return NotificationEvent(
        id=notification.id,
        campaign_id=notification.campaign_id,
        row=notification.row_number,
        channel=notification.channel,
        to=notification.to_number,
        status=notification.status,
        outcome=notification.outcome,
        answer=notification.answer,
        answers=notification.answers,
        attempts=notification.attempts_made,
        last_error=notification.last_error,
        created_at=notification.created_at,
        finished_at=notification.finished_at,
    )


def attempt_event(attempt: Attempt, notification: Notification) -> AttemptEvent:
    assert attempt.id is not None
    return AttemptEvent(
        id=attempt.id,
        number=attempt.number,
        channel=channel_of(notification, attempt),
        to=attempt.recipient or notification.to_number,
        status=attempt.status,
        outcome=attempt.outcome,
        answer=attempt.answer,
        answers=attempt.answers,
        transferred_to=attempt.transferred_to,
        transfer_s=attempt.transfer_s,
        provider=attempt.provider,
        provider_id=attempt.provider_id,
        provider_status=attempt.provider_status,
        error=attempt.error,
        cost=attempt.cost,
        duration_s=attempt.duration_s,
        started_at=attempt.started_at,
        ended_at=attempt.ended_at,
    )


# A campaign's webhook is set when it is created and never changes: read once per database.
_CAMPAIGN_WEBHOOKS: dict[tuple[str, int], int | None] = {}
_CAMPAIGN_WEBHOOKS_KEPT = 10_000


def _endpoint_of(session: Session, notification: Notification) -> int | None:
    if notification.campaign_id is None:
        return notification.webhook_id
    key = (str(session.get_bind().engine.url), notification.campaign_id)
    if key in _CAMPAIGN_WEBHOOKS:
        return _CAMPAIGN_WEBHOOKS[key]
    campaign = session.get(Campaign, notification.campaign_id)
    if campaign is None:
        return None
    if len(_CAMPAIGN_WEBHOOKS) >= _CAMPAIGN_WEBHOOKS_KEPT:
        _CAMPAIGN_WEBHOOKS.clear()
    _CAMPAIGN_WEBHOOKS[key] = campaign.webhook_id
    return campaign.webhook_id


def add_event(
    session: Session, endpoint_id: int, kind: EventKind, subject: Mapping[str, BaseModel]
) -> None:
    now = utcnow()
    about = {name: model.model_dump(mode="json") for name, model in subject.items()}
    body = {"type": kind, "created_at": now.isoformat(), **about}
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
def _record_flush(session: Session, _context: Any, _instances: Any) -> None:
    # Changes of rows already written: a row created final (a suppressed notification, say)
    # is answered in the response that creates it. Attempts first: an attempt.finished comes
    # before the notification.final it caused (events go out in the order they were written).
    changed = list(session.dirty)
    minutes: Counter[tuple[int, datetime, str]] = Counter()
    ended = session.info.get(_ENDED)
    for obj in changed:
        if not (isinstance(obj, Attempt) and _became(obj, FINAL_ATTEMPT)):
            continue
        notification = session.get(Notification, obj.notification_id)
        if notification is None:
            continue
        outcome = obj.outcome.value if obj.outcome else obj.status.value
        if ended is not None:
            ended.append((obj.provider, channel_of(notification, obj).value, outcome))
        if notification.campaign_id is not None:
            at = (obj.ended_at or utcnow()).replace(second=0, microsecond=0)
            minutes[(notification.campaign_id, at, outcome)] += 1
        endpoint = _endpoint_of(session, notification)
        if endpoint is not None:
            subject = {
                "attempt": attempt_event(obj, notification),
                "notification": notification_event(notification),
            }
            add_event(session, endpoint, EventKind.attempt_finished, subject)
    for obj in changed:
        if isinstance(obj, Notification) and _became(obj, FINAL_NOTIFICATION):
            endpoint = _endpoint_of(session, obj)
            if endpoint is not None:
                add_event(
                    session,
                    endpoint,
                    EventKind.notification_final,
                    {"notification": notification_event(obj)},
                )
    # campaign.finished is written by dialer.campaigns.endings, once nothing of it is ringing.
    tallies: Tally = Counter()
    answers: Counter[tuple[int, str, str]] = Counter()
    for obj in [*session.new, *changed]:
        if isinstance(obj, Notification) and obj.campaign_id is not None:
            before, now = _tallied(obj)
            if before != now:
                tallies[now] += 1
                if before is not None:
                    tallies[before] -= 1
            _count_answers(obj, answers)
    if minutes or tallies or answers:
        connection = session.connection()  # not session.execute: that would flush again
        _add_counts(connection, CampaignMinute, "finals", minutes)
        add_tallies(connection, tallies)
        _add_counts(connection, CampaignAnswer, "contacts", answers)


def _count_answers(obj: Notification, answers: Counter[tuple[int, str, str]]) -> None:
    """Move a campaign contact's answers in its campaign's per-question counts."""
    assert obj.campaign_id is not None
    history = sa.inspect(obj).attrs.answers.history
    if not history.added:
        return
    before = (history.deleted[0] if history.deleted else None) or {}
    for question, label in (history.added[0] or {}).items():
        answers[(obj.campaign_id, question, label)] += 1
    for question, label in before.items():
        answers[(obj.campaign_id, question, label)] -= 1


def _add_counts(
    connection: sa.Connection,
    model: type[SQLModel],
    column: str,
    counts: Mapping[tuple[Any, ...], int],
) -> None:
    """Add each count to its row of a counting table (keyed by its primary key), in key order:
    two transactions that both count never wait on each other in a circle."""
    table = cast(sa.Table, model.__table__)  # type: ignore[attr-defined]
    keys = [c.name for c in table.primary_key.columns]
    upsert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    for key, n in sorted(counts.items()):
        if n == 0:
            continue
        statement = upsert(table).values(**dict(zip(keys, key, strict=True)), **{column: n})
        connection.execute(
            statement.on_conflict_do_update(index_elements=keys, set_={column: table.c[column] + n})
        )


# A contact's place in its campaign's counts: (campaign, status, outcome, answer).
TallyKey = tuple[int, str, str, str]
Tally = Counter[TallyKey]


def tally_key(campaign_id: int, status: str, outcome: str | None, answer: str | None) -> TallyKey:
    return (campaign_id, str(status), str(outcome or ""), answer or "")


def add_tallies(connection: sa.Connection, tallies: Tally) -> None:
    """Move campaigns' contact counts by these amounts (dialer.models.CampaignTally)."""
    _add_counts(connection, CampaignTally, "contacts", tallies)


def _tallied(obj: Notification) -> tuple[TallyKey | None, TallyKey]:
    """A campaign contact's tally key before this flush (None if new) and after."""
    assert obj.campaign_id is not None
    now = tally_key(obj.campaign_id, obj.status, obj.outcome, obj.answer)
    state = sa.inspect(obj)
    if state.pending:
        return None, now
    before = []
    for name in ("status", "outcome", "answer"):
        history = state.attrs[name].history
        before.append(history.deleted[0] if history.deleted else getattr(obj, name))
    return tally_key(obj.campaign_id, *before), now


# Attempts counted by dialer.metrics once their transaction commits, in the sessions of
# processes that count (the flush hook above notes them).
_ENDED = "dialer.metrics.ended"


def _start_noting(session: Session, _transaction: Any, _connection: Any) -> None:
    session.info.setdefault(_ENDED, [])


def _count_ended(session: Session) -> None:
    for labels in session.info.pop(_ENDED, []):
        ATTEMPTS.labels(*labels).inc()


def _forget_ended(session: Session) -> None:
    session.info.pop(_ENDED, None)


def noted_ended(session: Session) -> int:
    """How many ended attempts the session has noted so far (see forget_ended_since)."""
    return len(session.info.get(_ENDED, ()))


def forget_ended_since(session: Session, mark: int) -> None:
    """Forget the ended attempts noted after `mark`: their savepoint was rolled back."""
    del session.info.get(_ENDED, [])[mark:]


def count_finished_attempts() -> None:
    """Count each attempt that ends, once its transaction has committed (a rolled-back one is
    not counted), in whichever process ends it; for every session of dialer.db."""
    if not event.contains(EventSession, "after_begin", _start_noting):
        event.listen(EventSession, "after_begin", _start_noting)
        event.listen(EventSession, "after_commit", _count_ended)
        event.listen(EventSession, "after_rollback", _forget_ended)


def _old_value_first(_target: Any, value: Any, _old: Any, _initiator: Any) -> Any:
    return value


# A contact's counts move from its old status to its new one: the old value must be known at
# flush even when the attribute was set without being read first.
for _attribute in (
    Notification.status,
    Notification.outcome,
    Notification.answer,
    Notification.answers,
):
    event.listen(_attribute, "set", _old_value_first, active_history=True, retval=True)
