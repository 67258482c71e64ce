"""/v1/webhooks: endpoints for our events, and the log of every event and every try at it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Query, Response, status
from pydantic import AnyHttpUrl, BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.bounds import AfterId, RowId
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.errors import FieldError, NotFound
from dialer.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from dialer.outbox import GIVE_UP_AFTER
from dialer.webhooks.service import destination_refusal, register_endpoint

__all__ = ["events_router", "router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
events_router = APIRouter(prefix="/v1/webhook-events", tags=["webhooks"])
T = TypeVar("T", WebhookEndpoint, WebhookEvent)


class EndpointCreate(BaseModel):
    url: AnyHttpUrl


class EndpointPublic(BaseModel):
    id: int
    url: str
    created_at: datetime


class EndpointWithSecret(EndpointPublic):
    # What a receiver checks X-Dialer-Signature with (README: the snippet).
    secret: str


class DeliveryPublic(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class EventPublic(BaseModel):
    id: int
    endpoint_id: int
    kind: str
    status: str
    tries: int
    next_try_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    body: dict[str, Any]

    @classmethod
    def of(cls, event: WebhookEvent) -> EventPublic:
        assert event.id is not None
        return cls(
            id=event.id,
            endpoint_id=event.endpoint_id,
            kind=event.kind,
            status=event.status,
            tries=event.tries,
            next_try_at=event.next_try_at if event.status == "pending" else None,
            created_at=event.created_at,
            delivered_at=event.delivered_at,
            body=json.loads(event.body),
        )


class EventWithDeliveries(EventPublic):
    deliveries: list[DeliveryPublic]


@router.post(
    "",
    response_model=EndpointWithSecret,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EndpointWithSecret, "description": "Registered already"}},
)
async def register(
    body: EndpointCreate,
    session: SessionDep,
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    response: Response,
) -> EndpointWithSecret:
    """Register a URL; its secret signs every event sent to it. 200 if it was registered.
    A URL inside the network (loopback, private, link-local) is refused unless the settings
    allow it."""
    allow = runtime.settings.webhook_allow_private
    refusal = await destination_refusal(str(body.url), allow_private=allow)
    if refusal is not None:
        raise FieldError("url", refusal, value=str(body.url))
    endpoint, created = await register_endpoint(session, str(body.url))
    if not created:
        response.status_code = status.HTTP_200_OK
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.get("", response_model=list[EndpointPublic])
async def list_endpoints(session: ReadSessionDep, _key: ApiKeyDep) -> list[EndpointPublic]:
    found = await session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id)))
    return [EndpointPublic.model_validate(e, from_attributes=True) for e in found.all()]


async def _found(session: AsyncSession, model: type[T], key: int, what: str) -> T:
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


async def _endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    return await _found(session, WebhookEndpoint, endpoint_id, "webhook endpoint")


@router.get("/{endpoint_id}", response_model=EndpointWithSecret)
async def get_endpoint(
    endpoint_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> EndpointWithSecret:
    endpoint = await _endpoint(session, endpoint_id)
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.get("/{endpoint_id}/events", response_model=list[EventPublic])
async def list_events(
    endpoint_id: RowId,
    session: ReadSessionDep,
    _key: ApiKeyDep,
    status_: Literal["pending", "delivered", "failed"] | None = Query(None, alias="status"),
    after: AfterId = 0,
    limit: int = Query(100, ge=1, le=1000),
) -> list[EventPublic]:
    """The endpoint's events, oldest first; page with `after` = the last id seen."""
    await _endpoint(session, endpoint_id)
    stmt = select(WebhookEvent).where(
        col(WebhookEvent.endpoint_id) == endpoint_id, col(WebhookEvent.id) > after
    )
    if status_ is not None:
        stmt = stmt.where(col(WebhookEvent.status) == status_)
    found = await session.exec(stmt.order_by(col(WebhookEvent.id)).limit(limit))
    return [EventPublic.of(e) for e in found.all()]


async def _event(session: AsyncSession, event_id: int) -> WebhookEvent:
    return await _found(session, WebhookEvent, event_id, "webhook event")


@events_router.get("/{event_id}", response_model=EventWithDeliveries)
async def get_event(
    event_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> EventWithDeliveries:
    """One event and every try at sending it."""
    event = await _event(session, event_id)
    tries = await session.exec(
        select(WebhookDelivery)
        .where(col(WebhookDelivery.event_id) == event_id)
        .order_by(col(WebhookDelivery.id))
    )
    deliveries = [DeliveryPublic.model_validate(d, from_attributes=True) for d in tries.all()]
    return EventWithDeliveries(**EventPublic.of(event).model_dump(), deliveries=deliveries)


@events_router.post(
    "/{event_id}/resend", response_model=EventPublic, status_code=status.HTTP_202_ACCEPTED
)
async def resend(event_id: RowId, session: SessionDep, _key: ApiKeyDep) -> EventPublic:
    """Send an event again now, whatever became of it; for 24 hours more if it is not taken."""
    event = await _event(session, event_id)
    now = utcnow()
    event.status, event.next_try_at, event.give_up_at = "pending", now, now + GIVE_UP_AFTER
    return EventPublic.of(event)
