"""Where webhooks may go: http(s) URLs on public addresses only, unless the settings allow the
inside of the network (tests, a receiver beside the dialer). Checked when an endpoint is
registered and again at every delivery, on the addresses the connection then really uses, so a
name that later resolves inside (DNS rebinding) is refused too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

__all__ = [
    "GuardedTransport",
    "address_refusal",
    "resolve",
    "url_refusal",
]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_refusal(address: _Address) -> str | None:
    """Why a webhook may not be sent to this address, if it may not."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for test, what in (
        (address.is_loopback, "a loopback"),
        (address.is_link_local, "a link-local"),
        (address.is_private, "a private"),
        (address.is_multicast, "a multicast"),
        (address.is_unspecified, "an unspecified"),
        (address.is_reserved, "a reserved"),
    ):
        if test:
            return f"{address} is {what} address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def url_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot be a webhook endpoint, judged from the URL alone (no DNS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "a webhook URL is http or https"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "a webhook URL names a host"
    if allow_private:
        return None
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is inside the network"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return address_refusal(address)


async def resolve(host: str, port: int) -> list[_Address]:
    """Every address `host` has now (an address literal is its own)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host itself, refuses it if any address is inside the network,
    and connects to the address it checked (TLS still verified against the host's name)."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        for address in addresses:
            refusal = address_refusal(address)
            if refusal is not None:
                raise httpx.ConnectError(f"refused: {host}: {refusal}", request=request)
        if not addresses:
            raise httpx.ConnectError(f"{host} has no address", request=request)
        request.url = request.url.copy_with(host=str(addresses[0]))
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
