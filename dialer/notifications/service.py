"""Notification rules and queries. Functions take a session and never commit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.transitions import IllegalTransition, move_notification
from dialer.creation import SUPPRESSED_REASON, initial_status, local_instant
from dialer.errors import Conflict, DialerError, FieldError
from dialer.models import Attempt, Notification, utcnow
from dialer.notifications.schemas import NotificationCreate, ReminderCreate
from dialer.optouts.service import GLOBAL, blocked_among
from dialer.phone import InvalidNumber, to_e164
from dialer.providers.capabilities import capabilities_of
from dialer.scheduling.policies import RetryPolicy
from dialer.scheduling.timing import Plan, parse_offset, person_zones, plan_send, window_of
from dialer.sms import is_valid_sender
from dialer.vocabulary import Channel, NotificationStatus

__all__ = [
    "FieldError",
    "IdempotencyConflict",
    "Made",
    "NotCancelable",
    "Wanted",
    "cancel_notification",
    "create_notification",
    "create_notifications",
    "create_reminders",
    "find_by_idempotency_key",
    "get_notification",
    "list_notifications",
    "normalise_sender",
    "reschedule_notification",
    "suppress",
]


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was used before with a different request."""


class NotCancelable(Conflict):
    """The notification has been dialled, or is final."""


# Fields added after the first release: left out of the hash while they hold their default,
# so a request made before keeps its Idempotency-Key.
_LATER_FIELDS = ("webhook_url", "sms_fallback", "send_at", "timezone")
_LATER_POLICY: dict[str, Any] = {"window_start": None, "window_end": None, "outside_window": "move"}


def request_hash(data: NotificationCreate) -> str:
    dumped = data.model_dump(mode="json", by_alias=True)
    for name in _LATER_FIELDS:
        if dumped.get(name) is None:
            dumped.pop(name, None)
    policy = dumped["policy"]
    for name, default in _LATER_POLICY.items():
        if policy.get(name) == default:
            policy.pop(name, None)
    canonical = json.dumps(dumped, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _number(field: str, raw: str, region: str) -> str:
    try:
        return to_e164(raw, region)
    except InvalidNumber as exc:
        raise FieldError(field, f"invalid phone number: {exc}") from exc


def _sender(raw: str, region: str) -> str:
    """An SMS sender: a name of letters and digits kept as it is, or a phone number."""
    if any(c.isalpha() for c in raw):
        if not is_valid_sender(raw):
            raise FieldError("from", "a sender name is 1 to 10 letters and digits")
        return raw
    return _number("from", raw, region)


def normalise_sender(channel: Channel, provider: str, raw: str, region: str) -> str:
    """`from` as stored: E.164, or a sender name where the channel allows one."""
    # Voxology sends only from one of the account's numbers.
    if channel is Channel.sms and capabilities_of(provider).sms_sender_names:
        return _sender(raw, region)
    return _number("from", raw, region)


async def find_by_idempotency_key(
    session: AsyncSession, api_key_id: int, key: str
) -> Notification | None:
    stmt = select(Notification).where(
        Notification.api_key_id == api_key_id, Notification.idempotency_key == key
    )
    return (await session.exec(stmt)).first()


@dataclass(frozen=True)
class Wanted:
    """A notification asked for: a request's, or one offset of a reminder request's."""

    data: NotificationCreate
    api_key_id: int | None
    idempotency_key: str | None
    default_region: str
    webhook_id: int | None = None
    send_at: datetime | None = None
    expires_at: datetime | None = None


Made = tuple[Notification, bool]


async def create_notification(
    session: AsyncSession,
    data: NotificationCreate,
    *,
    api_key_id: int | None,
    idempotency_key: str | None,
    default_region: str,
    webhook_id: int | None = None,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Made:
    """The new notification, or the one this Idempotency-Key made before; True if it is old."""
    wanted = Wanted(
        data, api_key_id, idempotency_key, default_region, webhook_id, send_at, expires_at
    )
    [made] = await create_notifications(session, [wanted])
    if isinstance(made, DialerError):
        raise made
    return made


async def create_notifications(
    session: AsyncSession, wanted: list[Wanted]
) -> list[Made | DialerError]:
    """For each, in order: its new notification, or the one its Idempotency-Key made before
    (True), or the error that refuses it, which writes nothing. The do-not-contact lists are
    read in one query and the new rows written in one flush, however many."""
    results: list[Made | DialerError] = []
    new: list[_New] = []
    keyed: dict[tuple[int, str], Notification] = {}
    for one in wanted:
        try:
            made = await _new_or_replayed(session, one, keyed)
        except DialerError as exc:
            results.append(exc)
            continue
        if isinstance(made, tuple):
            results.append(made)
            continue
        new.append(made)
        results.append((made.notification, False))
        if one.idempotency_key is not None and one.api_key_id is not None:
            keyed[one.api_key_id, one.idempotency_key] = made.notification
    numbers: list[tuple[str, tuple[str, ...]]] = [
        (number, (GLOBAL,)) for item in new for number in item.numbers
    ]
    blocked = await blocked_among(session, numbers)
    for item in new:
        notification = item.notification
        if any((number, (GLOBAL,)) in blocked for number in item.numbers):
            notification.status = initial_status(blocked=True)
            notification.last_error = SUPPRESSED_REASON
            notification.finished_at = notification.created_at
        elif item.plan.expired is not None:
            move_notification(notification, NotificationStatus.expired)
            notification.last_error = item.plan.expired
        session.add(notification)
    await session.flush()
    return results


@dataclass(frozen=True)
class _New:
    notification: Notification
    plan: Plan

    @property
    def numbers(self) -> list[str]:
        """The numbers it rings: one, or a conference's every leg."""
        return [self.notification.to_number, *(self.notification.participants or [])]


async def _new_or_replayed(
    session: AsyncSession, wanted: Wanted, keyed: dict[tuple[int, str], Notification]
) -> Made | _New:
    """A new notification, queued, not yet added; or the one its Idempotency-Key made before,
    stored or earlier in the same batch (`keyed`)."""
    data, region = wanted.data, wanted.default_region
    to_number = _number("to", data.to, region)
    participants = [_number("participants", raw, region) for raw in data.participants or []]
    if len({to_number, *participants}) != 1 + len(participants):
        raise FieldError("participants", "a conference rings each person once: numbers repeat")
    from_number = normalise_sender(data.channel, data.provider, data.from_, region)
    when = wanted.send_at or data.send_at
    expires = wanted.expires_at or data.expires_at
    field = "appointment_at" if wanted.send_at else "send_at"
    plan = _plan(data.policy, to_number, data.timezone, when, expires, field)
    fingerprint = request_hash(data)
    key, api_key_id = wanted.idempotency_key, wanted.api_key_id
    if key is not None and api_key_id is not None:
        existing = keyed.get((api_key_id, key)) or await find_by_idempotency_key(
            session, api_key_id, key
        )
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used with a different request"
                )
            return existing, True
    notification = Notification(
        status=initial_status(blocked=False),
        api_key_id=api_key_id,
        idempotency_key=key,
        request_hash=fingerprint,
        provider=data.provider,
        channel=data.channel,
        to_number=to_number,
        from_number=from_number,
        text=data.text,
        lang=data.lang,
        recording_url=str(data.recording_url) if data.recording_url else None,
        script=data.script.model_dump(mode="json", exclude_none=True) if data.script else None,
        participants=participants or None,
        policy=data.policy.model_dump(mode="json"),
        expires_at=expires,
        due_at=plan.due_at,
        timezone=data.timezone,
        webhook_id=wanted.webhook_id,
        fallback_text=data.sms_fallback.text if data.sms_fallback else None,
    )
    return _New(notification, plan)


def _plan(
    policy: RetryPolicy,
    to_number: str,
    timezone: str | None,
    when: datetime | None,
    expires: datetime | None,
    field: str,
) -> Plan:
    """When a notification goes, by its send time (`field` in the request) and its calling
    window, in the person's zone."""
    now = utcnow()
    if when is None and window_of(policy) is None:
        return Plan(now)
    zones = person_zones(to_number, timezone)
    due = _local(when, zones, field) if when is not None else now
    return plan_send(max(due, now), policy, zones, expires)


def _local(moment: datetime, zones: tuple[ZoneInfo, ...], field: str) -> datetime:
    try:
        return local_instant(moment, zones)
    except ValueError as exc:
        raise FieldError(field, f"{exc}: give timezone") from exc


def suppress(notification: Notification) -> None:
    move_notification(notification, NotificationStatus.suppressed)
    notification.last_error = SUPPRESSED_REASON


async def get_notification(
    session: AsyncSession, notification_id: int
) -> tuple[Notification, list[Attempt]] | None:
    notification = await session.get(Notification, notification_id)
    if notification is None:
        return None
    stmt = (
        select(Attempt)
        .where(Attempt.notification_id == notification_id)
        .order_by(col(Attempt.number))
    )
    return notification, list((await session.exec(stmt)).all())


async def cancel_notification(session: AsyncSession, notification_id: int) -> Notification | None:
    notification = await session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        return None
    try:
        move_notification(notification, NotificationStatus.canceled)
    except IllegalTransition as exc:
        raise NotCancelable(
            f"a notification that is {notification.status} can no longer be canceled"
        ) from exc
    return notification


async def create_reminders(
    session: AsyncSession,
    data: ReminderCreate,
    *,
    api_key_id: int | None,
    idempotency_key: str | None,
    default_region: str,
    webhook_id: int | None = None,
) -> list[tuple[Notification, bool]]:
    """One notification per offset before the appointment, none sent at or after it; one whose
    time has already passed is made expired, so the answer accounts for every offset asked."""
    to_number = _number("to", data.to, default_region)
    appointment = _local(
        data.appointment_at, person_zones(to_number, data.timezone), "appointment_at"
    )
    deadline = min(appointment, data.expires_at) if data.expires_at else appointment
    now = utcnow()
    made = []
    for offset in data.remind_before:
        send_at = appointment - parse_offset(offset)
        notification, replayed = await create_notification(
            session,
            data,
            api_key_id=api_key_id,
            idempotency_key=f"{idempotency_key}#{offset}" if idempotency_key else None,
            default_region=default_region,
            webhook_id=webhook_id,
            send_at=send_at,
            expires_at=deadline,
        )
        if not replayed and send_at < now and notification.status is NotificationStatus.queued:
            move_notification(notification, NotificationStatus.expired)
            notification.last_error = f"its time, {offset} before the appointment, had passed"
        made.append((notification, replayed))
    await session.flush()
    return made


async def reschedule_notification(
    session: AsyncSession, notification_id: int, send_at: datetime
) -> Notification | None:
    """A new send time for a notification not yet dialled, kept to its calling window."""
    notification = await session.get(Notification, notification_id, with_for_update=True)
    if notification is None:
        return None
    if notification.status is not NotificationStatus.queued or notification.attempts_made:
        raise NotCancelable(
            f"a notification that is {notification.status} and has been "
            f"dialled {notification.attempts_made} times cannot be rescheduled"
        )
    try:
        policy = RetryPolicy.model_validate(notification.policy)
    except ValidationError as exc:
        raise NotCancelable(
            f"its stored policy is no longer valid: {exc.errors()[0]['msg']}"
        ) from exc
    number, zone = notification.to_number, notification.timezone
    expires = notification.expires_at
    plan = _plan(policy, number, zone, send_at, expires, "send_at")
    if expires is not None and plan.due_at >= expires:
        # A reminder's expiry is its appointment: a send time after it would never go.
        raise FieldError(
            "send_at", f"is at or after the notification expires ({expires.isoformat()})"
        )
    notification.due_at = plan.due_at
    if plan.expired is not None:
        move_notification(notification, NotificationStatus.expired)
        notification.last_error = plan.expired
    return notification


async def list_notifications(
    session: AsyncSession,
    *,
    status: NotificationStatus | None,
    to: str | None,
    after: int,
    limit: int,
) -> list[Notification]:
    """API notifications (not campaign contacts), oldest first, a page at a time."""
    stmt = select(Notification).where(
        col(Notification.campaign_id).is_(None), col(Notification.id) > after
    )
    if status is not None:
        stmt = stmt.where(col(Notification.status) == status)
    if to is not None:
        stmt = stmt.where(col(Notification.to_number) == to)
    return list((await session.exec(stmt.order_by(col(Notification.id)).limit(limit))).all())
