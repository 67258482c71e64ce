"""/v1/notifications: trigger one message for one person and follow it to a final status."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError

from dialer.db import session_scope
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep
from dialer.models import NotificationStatus
from dialer.notifications import service
from dialer.notifications.schemas import NotificationCreate, NotificationPublic
from dialer.runtime import enqueue_dial
from dialer.webhooks.service import webhook_for

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotificationPublic,
    response_model_by_alias=True,
)
async def create(
    body: NotificationCreate,
    runtime: RuntimeDep,
    api_key: ApiKeyDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> NotificationPublic:
    if body.provider not in runtime.providers:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", "provider"),
                    "input": body.provider,
                    "msg": f"provider {body.provider!r} is not configured here: set its "
                    "credentials (VOXOLOGY_API_KEY)",
                }
            ]
        )
    try:
        async with session_scope(runtime.sessions) as session:
            webhook = str(body.webhook_url) if body.webhook_url else None
            notification, replayed = await service.create_notification(
                session,
                body,
                api_key_id=api_key.id,
                idempotency_key=idempotency_key,
                default_region=runtime.settings.default_region,
                webhook_id=await webhook_for(session, webhook, runtime.settings),
            )
    except service.FieldError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body", exc.field),
                    "msg": exc.message,
                    "input": getattr(body, "from_" if exc.field == "from" else exc.field),
                }
            ]
        ) from exc
    except service.IdempotencyConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the insert.
        assert idempotency_key is not None and api_key.id is not None
        async with session_scope(runtime.sessions) as session:
            found = await service.find_by_idempotency_key(session, api_key.id, idempotency_key)
        if found is None:
            raise
        notification, replayed = found, True
    assert notification.id is not None
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    elif notification.status is NotificationStatus.queued:
        await _enqueue_after_commit(runtime, notification.id)
    return await _read(runtime, notification.id)


async def _enqueue_after_commit(runtime: RuntimeDep, notification_id: int) -> None:
    try:
        await enqueue_dial(runtime.redis, notification_id)
    except Exception:
        # The row is committed as queued; the hopper enqueues it once Redis is back.
        log.warning(
            "could not enqueue notification %s; the hopper will", notification_id, exc_info=True
        )


async def _read(runtime: RuntimeDep, notification_id: int) -> NotificationPublic:
    async with session_scope(runtime.sessions) as session:
        found = await service.get_notification(session, notification_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such notification")
    return NotificationPublic.of(*found)


@router.get("/{notification_id}", response_model=NotificationPublic, response_model_by_alias=True)
async def read(
    notification_id: int, session: ReadSessionDep, _key: ApiKeyDep
) -> NotificationPublic:
    found = await service.get_notification(session, notification_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such notification")
    return NotificationPublic.of(*found)


@router.post(
    "/{notification_id}/cancel", response_model=NotificationPublic, response_model_by_alias=True
)
async def cancel(notification_id: int, runtime: RuntimeDep, _key: ApiKeyDep) -> NotificationPublic:
    try:
        async with session_scope(runtime.sessions) as session:
            found = await service.cancel_notification(session, notification_id)
    except service.NotCancelable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such notification")
    return await _read(runtime, notification_id)
