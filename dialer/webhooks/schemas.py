"""Request and response bodies of /v1/webhooks and /v1/webhook-events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import AnyHttpUrl, BaseModel

from dialer.models import WebhookEvent
from dialer.vocabulary import EventStatus

__all__ = [
    "DeliveryPublic",
    "EndpointCreate",
    "EndpointPublic",
    "EndpointWithSecret",
    "EventPublic",
    "EventWithDeliveries",
]


class EndpointCreate(BaseModel):
    url: AnyHttpUrl


class EndpointPublic(BaseModel):
    id: int
    url: str
    created_at: datetime


class EndpointWithSecret(EndpointPublic):
    # What a receiver checks X-Dialer-Signature with (docs/api.md: the snippet).
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
            next_try_at=event.next_try_at if event.status is EventStatus.pending else None,
            created_at=event.created_at,
            delivered_at=event.delivered_at,
            body=json.loads(event.body),
        )


class EventWithDeliveries(EventPublic):
    deliveries: list[DeliveryPublic]
