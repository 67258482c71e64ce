"""/v1/webhooks: endpoints for our events, and the log of every event and every try at it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from dialer.bounds import AfterId, RowId
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.vocabulary import EventStatus
from dialer.webhooks import service
from dialer.webhooks.schemas import (
    DeliveryPublic,
    EndpointCreate,
    EndpointPublic,
    EndpointWithSecret,
    EventPublic,
    EventWithDeliveries,
)

__all__ = ["events_router", "router"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
events_router = APIRouter(prefix="/v1/webhook-events", tags=["webhooks"])


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
    endpoint, created = await service.register_checked(session, str(body.url), allow_private=allow)
    if not created:
        response.status_code = status.HTTP_200_OK
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.get("", response_model=list[EndpointPublic])
async def list_endpoints(session: ReadSessionDep, _key: ApiKeyDep) -> list[EndpointPublic]:
    found = await service.list_endpoints(session)
    return [EndpointPublic.model_validate(e, from_attributes=True) for e in found]


@router.get("/{endpoint_id}", response_model=EndpointWithSecret)
async def get_endpoint(
    endpoint_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> EndpointWithSecret:
    endpoint = await service.get_endpoint(session, endpoint_id)
    return EndpointWithSecret.model_validate(endpoint, from_attributes=True)


@router.get("/{endpoint_id}/events", response_model=list[EventPublic])
async def list_events(
    endpoint_id: RowId,
    session: ReadSessionDep,
    _key: ApiKeyDep,
    status_: Annotated[EventStatus | None, Query(alias="status")] = None,
    after: AfterId = 0,
    limit: int = Query(100, ge=1, le=1000),
) -> list[EventPublic]:
    """The endpoint's events, oldest first; page with `after` = the last id seen."""
    found = await service.list_events(session, endpoint_id, status_, after, limit)
    return [EventPublic.of(e) for e in found]


@events_router.get("/{event_id}", response_model=EventWithDeliveries)
async def get_event(
    event_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> EventWithDeliveries:
    """One event and every try at sending it."""
    event = await service.get_event(session, event_id)
    tries = await service.deliveries_of(session, event_id)
    deliveries = [DeliveryPublic.model_validate(d, from_attributes=True) for d in tries]
    return EventWithDeliveries(**EventPublic.of(event).model_dump(), deliveries=deliveries)


@events_router.post(
    "/{event_id}/resend", response_model=EventPublic, status_code=status.HTTP_202_ACCEPTED
)
async def resend(event_id: RowId, session: SessionDep, _key: ApiKeyDep) -> EventPublic:
    """Send an event again now, whatever became of it; for 24 hours more if it is not taken."""
    return EventPublic.of(await service.resend_event(session, event_id))
