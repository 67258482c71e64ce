"""One HTTP exchange with a provider, its failures mapped into the error tree of base.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from dialer.providers.base import Ambiguous, ProviderError, Transient

__all__ = ["TRANSPORT_ERRORS", "exchange", "map_transport_error"]

# First match wins, so subclasses come before their bases. A request that never left us
# (no connection, no pooled slot) is not sent; anything later may have reached the provider.
TRANSPORT_ERRORS: list[tuple[type[httpx.TransportError], bool]] = [
    (httpx.ConnectError, False),
    (httpx.ConnectTimeout, False),
    (httpx.PoolTimeout, False),
    (httpx.UnsupportedProtocol, False),
    (httpx.ProxyError, False),
    (httpx.TransportError, True),
]


def map_transport_error(exc: httpx.TransportError, *, is_post: bool) -> ProviderError:
    for cls, maybe_sent in TRANSPORT_ERRORS:
        if isinstance(exc, cls):
            text = f"{type(exc).__name__}: {exc}"
            return Ambiguous(text) if (maybe_sent and is_post) else Transient(text)
    raise AssertionError("TransportError is the last row of the table")  # pragma: no cover


async def exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    is_post: bool,
    map_http_error: Callable[..., ProviderError],
    allow_empty: bool = False,
    **request: Any,
) -> Any:
    """Send one request; its JSON answer, or None for an empty one where `allow_empty`."""
    try:
        response = await client.request(method, url, **request)
    except httpx.TransportError as exc:
        raise map_transport_error(exc, is_post=is_post) from exc
    if response.status_code >= 400:
        raise map_http_error(response, is_post=is_post)
    if allow_empty and (response.status_code == 204 or not response.content):
        return None
    try:
        return response.json()
    except ValueError as exc:
        cls = Ambiguous if is_post else Transient
        raise cls(f"unreadable answer: {response.text[:200]!r}") from exc
