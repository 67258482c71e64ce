"""Notification rules and queries. Functions take a session and never commit."""

from __future__ import annotations

import hashlib
import json

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.lifecycle import IllegalTransition, move_notification
from dialer.models import Attempt, Channel, Notification, NotificationStatus
from dialer.notifications.schemas import NotificationCreate
from dialer.optouts.service import is_blocked
from dialer.phone import InvalidNumber, to_e164
from dialer.sms import is_valid_sender

__all__ = [
    "FieldError",
    "IdempotencyConflict",
    "NotCancelable",
    "cancel_notification",
    "create_notification",
    "find_by_idempotency_key",
    "get_notification",
    "normalise_sender",
    "suppress",
]


class FieldError(ValueError):
    """A request field that is well-formed but unusable, e.g. a number no country has."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request."""


class NotCancelable(Exception):
    pass


def request_hash(data: NotificationCreate) -> str:
    # Fields added later are left out while unset, so older requests keep their hash.
    unset = {name for name in ("webhook_url", "sms_fallback") if getattr(data, name) is None}
    canonical = json.dumps(
        data.model_dump(mode="json", by_alias=True, exclude=unset), sort_keys=True
    )
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
    # Only Xoxzo sends SMS from a name; Voxology sends from one of the account's numbers.
    if channel is Channel.sms and provider == "xoxzo":
        return _sender(raw, region)
    return _number("from", raw, region)


async def find_by_idempotency_key(
    session: AsyncSession, api_key_id: int, key: str
) -> Notification | None:
    stmt = select(Notification).where(
        Notification.api_key_id == api_key_id, Notification.idempotency_key == key
    )
    return (await session.exec(stmt)).first()


async def create_notification(
    session: AsyncSession,
    data: NotificationCreate,
    *,
    api_key_id: int | None,
    idempotency_key: str | None,
    default_region: str,
    webhook_id: int | None = None,
) -> tuple[Notification, bool]:
    """The new notification, or the one this Idempotency-Key made before; True if it is old."""
    to_number = _number("to", data.to, default_region)
    participants = [_number("participants", raw, default_region) for raw in data.participants or []]
    if len({to_number, *participants}) != 1 + len(participants):
        raise FieldError("participants", "a conference rings each person once: numbers repeat")
    from_number = normalise_sender(data.channel, data.provider, data.from_, default_region)
    fingerprint = request_hash(data)
    if idempotency_key is not None and api_key_id is not None:
        existing = await find_by_idempotency_key(session, api_key_id, idempotency_key)
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict(
                    "this Idempotency-Key was already used with a different request"
                )
            return existing, True
    notification = Notification(
        api_key_id=api_key_id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        provider=data.provider,
        channel=data.channel,
        to_number=to_number,
        from_number=from_number,
        text=data.text,
        lang=data.lang,
        recording_url=str(data.recording_url) if data.recording_url else None,
        participants=participants or None,
        policy=data.policy.model_dump(mode="json"),
        expires_at=data.expires_at,
        webhook_id=webhook_id,
        fallback_text=data.sms_fallback.text if data.sms_fallback else None,
    )
    session.add(notification)
    for number in notification.recipients:
        if await is_blocked(session, number):
            suppress(notification)
            break
    await session.flush()
    return notification, False


def suppress(notification: Notification) -> None:
    move_notification(notification, NotificationStatus.suppressed)
    notification.last_error = "the number is on the do-not-contact list"


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
