"""/v1/notifications: trigger one message for one person and follow it to a final status."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.audio.service import give_audio_urls
from dialer.bounds import AfterId, RowId
from dialer.config import Settings
from dialer.db import read_scope, session_scope
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep
from dialer.errors import DialerError, FieldError, NotFound
from dialer.group_commit import Merge
from dialer.models import Notification, utcnow
from dialer.notifications import service
from dialer.notifications.schemas import (
    NotificationCreate,
    NotificationPublic,
    ReminderCreate,
    Reschedule,
)
from dialer.notifications.service import Made, Wanted
from dialer.phone import InvalidNumber, to_e164
from dialer.repeated_keys import refuse_repeated_keys
from dialer.responses import problems
from dialer.runtime import enqueue_dial
from dialer.vocabulary import NotificationStatus
from dialer.webhooks.service import webhook_for

__all__ = ["reminders_router", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
reminders_router = APIRouter(prefix="/v1/reminders", tags=["notifications"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


def _check_provider(body: NotificationCreate, runtime: RuntimeDep) -> None:
    if body.provider not in runtime.providers:
        raise FieldError(
            "provider",
            f"provider {body.provider!r} is not configured here: set its "
            "credentials (VOXOLOGY_API_KEY)",
            value=body.provider,
        )


def _input(body: NotificationCreate, field: str) -> object:
    return getattr(body, {"from": "from_"}.get(field, field), None)


@router.post(
    "",
    dependencies=[Depends(refuse_repeated_keys)],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotificationPublic,
    response_model_by_alias=True,
    responses=problems(409),
)
async def create(
    body: NotificationCreate,
    runtime: RuntimeDep,
    api_key: ApiKeyDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> NotificationPublic:
    _check_provider(body, runtime)
    request = _Request(body, api_key.id, idempotency_key, runtime.settings)
    try:
        # Made with the other creations that wait at the same moment, in one transaction.
        made = await runtime.writes.merged(_CREATES, request)
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the insert.
        assert idempotency_key is not None and api_key.id is not None
        async with session_scope(runtime.sessions) as session:
            found = await service.find_by_idempotency_key(session, api_key.id, idempotency_key)
        if found is None:
            raise
        made = (found, True)
    if isinstance(made, FieldError):
        made.value = _input(body, made.field)
        raise made
    if isinstance(made, DialerError):
        raise made
    notification, replayed = made
    assert notification.id is not None
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return await _read(runtime, notification.id)
    # What was just committed: queued (or suppressed, or expired) and not yet dialled.
    public = NotificationPublic.of(notification, [])
    await _enqueue_if_due(runtime, notification)
    return public


@dataclass(frozen=True)
class _Request:
    body: NotificationCreate
    api_key_id: int | None
    idempotency_key: str | None
    settings: Settings


async def _create_all(session: AsyncSession, requests: list[_Request]) -> list[Made | DialerError]:
    """Each request's notification (new, or the one its Idempotency-Key made before), or the
    error that refused it, which wrote nothing of its own."""
    wanted: list[Wanted | DialerError] = []
    for request in requests:
        body = request.body
        try:
            webhook_id = await _webhook_and_audio(session, request.settings, body)
        except DialerError as exc:
            wanted.append(exc)
            continue
        region = request.settings.default_region
        wanted.append(Wanted(body, request.api_key_id, request.idempotency_key, region, webhook_id))
    made = iter(
        await service.create_notifications(session, [w for w in wanted if isinstance(w, Wanted)])
    )
    return [w if isinstance(w, DialerError) else next(made) for w in wanted]


_CREATES = Merge(_create_all)


async def _webhook_and_audio(
    session: AsyncSession, settings: Settings, body: NotificationCreate
) -> int | None:
    """The webhook endpoint a request reports to, its audio ids given their URLs in place."""
    webhook = str(body.webhook_url) if body.webhook_url else None
    webhook_id = await webhook_for(session, webhook, settings)
    await give_audio_urls(session, settings, body)
    return webhook_id


@reminders_router.post(
    "",
    dependencies=[Depends(refuse_repeated_keys)],
    status_code=status.HTTP_202_ACCEPTED,
    response_model=list[NotificationPublic],
    response_model_by_alias=True,
    responses=problems(409),
)
async def create_reminders(
    body: ReminderCreate,
    runtime: RuntimeDep,
    api_key: ApiKeyDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> list[NotificationPublic]:
    """One notification per `remind_before` offset, in that order."""
    made = await _create_reminders(runtime, body, api_key.id, idempotency_key)
    if all(replayed for _, replayed in made):
        response.headers["Idempotent-Replayed"] = "true"
    for notification, replayed in made:
        if not replayed:
            await _enqueue_if_due(runtime, notification)
    return [await _read(runtime, n.id) for n, _ in made if n.id is not None]


async def _create_reminders(
    runtime: RuntimeDep,
    body: ReminderCreate,
    api_key_id: int | None,
    idempotency_key: str | None,
) -> list[tuple[Notification, bool]]:
    """The notifications a reminder request makes, one per offset, each with True if an
    earlier request with its Idempotency-Key made it. In a transaction of its own: a refusal
    half-way undoes the offsets made before it."""
    _check_provider(body, runtime)
    try:
        async with session_scope(runtime.sessions) as session:
            webhook_id = await _webhook_and_audio(session, runtime.settings, body)
            return await service.create_reminders(
                session,
                body,
                api_key_id=api_key_id,
                idempotency_key=idempotency_key,
                default_region=runtime.settings.default_region,
                webhook_id=webhook_id,
            )
    except FieldError as exc:
        exc.value = _input(body, exc.field)
        raise


@router.patch(
    "/{notification_id}",
    response_model=NotificationPublic,
    response_model_by_alias=True,
    responses=problems(409),
)
async def reschedule(
    notification_id: RowId, body: Reschedule, runtime: RuntimeDep, _key: ApiKeyDep
) -> NotificationPublic:
    """A new send time, until the notification is first dialled."""
    try:
        async with session_scope(runtime.sessions) as session:
            found = await service.reschedule_notification(session, notification_id, body.send_at)
    except FieldError as exc:
        exc.value = body.send_at
        raise
    if found is None:
        raise NotFound("no such notification")
    await _enqueue_if_due(runtime, found)
    return await _read(runtime, notification_id)


@router.get("", response_model=list[NotificationPublic], response_model_by_alias=True)
async def list_notifications(
    session: ReadSessionDep,
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    status_: Annotated[NotificationStatus | None, Query(alias="status")] = None,
    to: Annotated[str | None, Query(max_length=64)] = None,
    after: AfterId = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationPublic]:
    """API notifications and reminders (campaign contacts are under their campaign), oldest
    first; page with `after` = the last id seen."""
    number = None
    if to is not None:
        try:
            number = to_e164(to, runtime.settings.default_region)
        except InvalidNumber as exc:
            raise FieldError("to", str(exc), value=to, location="query") from exc
    found = await service.list_notifications(
        session, status=status_, to=number, after=after, limit=limit
    )
    return [NotificationPublic.of(n, []) for n in found]


async def _enqueue_if_due(runtime: RuntimeDep, notification: Notification) -> None:
    if notification.status is NotificationStatus.queued and notification.due_at <= utcnow():
        assert notification.id is not None
        await _enqueue_after_commit(runtime, notification.id)


async def _enqueue_after_commit(runtime: RuntimeDep, notification_id: int) -> None:
    try:
        await enqueue_dial(runtime.redis, notification_id)
    except Exception:
        # The row is committed as queued; the hopper enqueues it once Redis is back.
        log.warning(
            "could not enqueue notification %s; the hopper will", notification_id, exc_info=True
        )


async def _read(runtime: RuntimeDep, notification_id: int) -> NotificationPublic:
    # Only a read: on SQLite it takes no turn at the write lock.
    async with read_scope(runtime.sessions) as session:
        found = await service.get_notification(session, notification_id)
    if found is None:
        raise NotFound("no such notification")
    return NotificationPublic.of(*found)


@router.get("/{notification_id}", response_model=NotificationPublic, response_model_by_alias=True)
async def read(
    notification_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> NotificationPublic:
    found = await service.get_notification(session, notification_id)
    if found is None:
        raise NotFound("no such notification")
    return NotificationPublic.of(*found)


@router.post(
    "/{notification_id}/cancel",
    response_model=NotificationPublic,
    response_model_by_alias=True,
    responses=problems(409),
)
async def cancel(
    notification_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep
) -> NotificationPublic:
    async with session_scope(runtime.sessions) as session:
        found = await service.cancel_notification(session, notification_id)
    if found is None:
        raise NotFound("no such notification")
    return await _read(runtime, notification_id)
