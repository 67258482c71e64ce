"""Webhook endpoints: registered by URL, each with its own secret; and which one a new
notification or campaign reports to."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.config import Settings
from dialer.errors import FieldError, NotFound
from dialer.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from dialer.outbox import GIVE_UP_AFTER
from dialer.vocabulary import EventStatus
from dialer.webhooks.destinations import address_refusal, resolve, url_refusal
from dialer.webhooks.signing import new_secret

__all__ = [
    "deliveries_of",
    "destination_refusal",
    "endpoint_by_url",
    "event_counts",
    "get_endpoint",
    "get_event",
    "list_endpoints",
    "list_events",
    "recent_events",
    "register_checked",
    "register_endpoint",
    "resend_event",
    "webhook_for",
]

T = TypeVar("T", WebhookEndpoint, WebhookEvent)


async def destination_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why events may not be sent to `url`: its scheme, or a host inside the network (by the
    URL, then by what the name resolves to now; a name that does not resolve yet is left to
    the check at each delivery)."""
    refusal = url_refusal(url, allow_private=allow_private)
    if refusal is not None or allow_private:
        return refusal
    parts = urlsplit(url)
    try:
        addresses = await resolve(parts.hostname or "", parts.port or 443)
    except OSError:
        return None
    return next((r for a in addresses if (r := address_refusal(a)) is not None), None)


async def endpoint_by_url(session: AsyncSession, url: str) -> WebhookEndpoint | None:
    stmt = select(WebhookEndpoint).where(col(WebhookEndpoint.url) == url)
    return (await session.exec(stmt)).first()


async def register_endpoint(
    session: AsyncSession, url: str, secret: str | None = None
) -> tuple[WebhookEndpoint, bool]:
    """The endpoint for `url`, made with a new secret (or `secret`) if there was none; True if
    it is new."""
    found = await endpoint_by_url(session, url)
    if found is not None:
        return found, False
    endpoint = WebhookEndpoint(url=url, secret=secret or new_secret())
    try:
        async with session.begin_nested():
            session.add(endpoint)
    except IntegrityError:
        # Registered by another request at the same moment: theirs stands.
        found = await endpoint_by_url(session, url)
        assert found is not None
        return found, False
    return endpoint, True


async def register_checked(
    session: AsyncSession, url: str, *, allow_private: bool
) -> tuple[WebhookEndpoint, bool]:
    """register_endpoint, for a URL events may be sent to (FieldError on `url` if not)."""
    refusal = await destination_refusal(url, allow_private=allow_private)
    if refusal is not None:
        raise FieldError("url", refusal, value=url)
    return await register_endpoint(session, url)


async def webhook_for(session: AsyncSession, url: str | None, settings: Settings) -> int | None:
    """The endpoint a new notification or campaign reports to: the one it names, which must be
    registered (its secret known to the client first), else the default from the settings."""
    if url is not None:
        endpoint = await endpoint_by_url(session, url)
        if endpoint is None:
            raise FieldError(
                "webhook_url",
                "no webhook endpoint has this URL: register it with POST /v1/webhooks",
            )
        return endpoint.id
    if settings.webhook_url is None or settings.webhook_secret is None:
        return None
    endpoint, _ = await register_endpoint(
        session, settings.webhook_url, settings.webhook_secret.get_secret_value()
    )
    # The secret is the environment's: it may have been rotated there.
    endpoint.secret = settings.webhook_secret.get_secret_value()
    return endpoint.id


async def list_endpoints(session: AsyncSession) -> list[WebhookEndpoint]:
    found = await session.exec(select(WebhookEndpoint).order_by(col(WebhookEndpoint.id)))
    return list(found.all())


async def _found(session: AsyncSession, model: type[T], key: int, what: str) -> T:
    row = await session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


async def get_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    return await _found(session, WebhookEndpoint, endpoint_id, "webhook endpoint")


async def get_event(session: AsyncSession, event_id: int) -> WebhookEvent:
    return await _found(session, WebhookEvent, event_id, "webhook event")


async def list_events(
    session: AsyncSession, endpoint_id: int, status: EventStatus | None, after: int, limit: int
) -> list[WebhookEvent]:
    """The endpoint's events, oldest first (NotFound for an endpoint that does not exist)."""
    await get_endpoint(session, endpoint_id)
    stmt = select(WebhookEvent).where(
        col(WebhookEvent.endpoint_id) == endpoint_id, col(WebhookEvent.id) > after
    )
    if status is not None:
        stmt = stmt.where(col(WebhookEvent.status) == status)
    found = await session.exec(stmt.order_by(col(WebhookEvent.id)).limit(limit))
    return list(found.all())


async def deliveries_of(session: AsyncSession, event_id: int) -> list[WebhookDelivery]:
    tries = await session.exec(
        select(WebhookDelivery)
        .where(col(WebhookDelivery.event_id) == event_id)
        .order_by(col(WebhookDelivery.id))
    )
    return list(tries.all())


async def resend_event(session: AsyncSession, event_id: int) -> WebhookEvent:
    """Send it again now, whatever became of it; for GIVE_UP_AFTER more if it is not taken."""
    event = await get_event(session, event_id)
    now = utcnow()
    event.status, event.next_try_at = EventStatus.pending, now
    event.give_up_at = now + GIVE_UP_AFTER
    return event


async def recent_events(
    session: AsyncSession, endpoint_id: int, limit: int, before: int | None = None
) -> list[WebhookEvent]:
    """The endpoint's latest events, newest first."""
    stmt = select(WebhookEvent).where(col(WebhookEvent.endpoint_id) == endpoint_id)
    if before is not None:
        stmt = stmt.where(col(WebhookEvent.id) < before)
    found = await session.exec(stmt.order_by(col(WebhookEvent.id).desc()).limit(limit))
    return list(found.all())


async def event_counts(session: AsyncSession) -> dict[int, dict[str, int]]:
    """Per endpoint, its events waiting to be taken and given up on (the delivered are most
    and are not counted)."""
    rows = await session.exec(
        select(WebhookEvent.endpoint_id, WebhookEvent.status, func.count())
        .where(col(WebhookEvent.status).in_([EventStatus.pending, EventStatus.failed]))
        .group_by(col(WebhookEvent.endpoint_id), col(WebhookEvent.status))
    )
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, status, n in rows.all():
        counts.setdefault(endpoint_id, {})[str(status)] = n
    return counts
