"""Webhook endpoints: registered by URL, each with its own secret; and which one a new
notification or campaign reports to."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.config import Settings
from dialer.errors import FieldError
from dialer.models import WebhookEndpoint
from dialer.webhooks.destinations import address_refusal, resolve, url_refusal
from dialer.webhooks.signing import new_secret

__all__ = ["destination_refusal", "endpoint_by_url", "register_endpoint", "webhook_for"]


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
