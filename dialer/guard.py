"""What every request passes before any handler reads its body: a size limit, and for the API an
authenticated key allowed to make the request, so that an anonymous or read-only caller can make
the service read and parse nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.apikeys import authenticate
from dialer.db import read_scope
from dialer.models import ApiKey
from dialer.vocabulary import Scope as KeyScope

__all__ = [
    "API_KEY_STATE",
    "PUBLIC_PREFIXES",
    "READ_ONLY",
    "SAFE_METHODS",
    "UNAUTHORIZED",
    "RequestGuard",
    "bearer_key",
    "needs_key",
]

# Authenticated by their own means (a signed URL, a secret header), never by an API key.
PUBLIC_PREFIXES = ("/v1/callbacks/", "/v1/flows/", "/v1/din/")
# Where the request state keeps the key the guard authenticated.
API_KEY_STATE = "api_key"
# Files of contacts or numbers, through the API and the console (a new campaign's form carries
# its CSV).
_UPLOADS = re.compile(
    r"^(/v1/campaigns/[^/]+/contacts(/json)?|/v1/do-not-contact/import|/v1/audio"
    r"|/campaigns/(new|[^/]+/contacts)|/do-not-contact/import)$"
)
UNAUTHORIZED = "a valid API key is required: Authorization: Bearer <key>"
READ_ONLY = "this API key's scope is viewer: it may only read (GET)"
# What a viewer key may send: nothing that changes state.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def needs_key(path: str) -> bool:
    """Whether a request to `path` must carry an API key."""
    return path.startswith("/v1/") and not path.startswith(PUBLIC_PREFIXES)


async def _reply(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: 401 before the body for an API route without a valid key; 413 for a
    body over its limit (a contact upload has its own, larger one), whether its length is
    declared or it comes in chunks."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        if needs_key(path):
            key = await self._authenticate(scope, headers)
            if key is None:
                await _reply(send, 401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
                return
            if key.scope is not KeyScope.admin and scope["method"] not in SAFE_METHODS:
                await _reply(send, 403, READ_ONLY)
                return
            scope.setdefault("state", {})[API_KEY_STATE] = key
        limit = self.max_upload_bytes if _UPLOADS.match(path) else self.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
                await _reply(send, 400, "Content-Length is not a number of bytes")
                return
            if int(declared) > limit:
                await _reply(send, 413, f"the request body is over {limit} bytes")
                return
            # The server reads no more than the declared length.
            await self.app(scope, receive, send)
            return
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send, 413, f"the request body is over {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _authenticate(self, scope: Scope, headers: Headers) -> ApiKey | None:
        plaintext = bearer_key(headers.get("authorization"))
        if plaintext is None or len(plaintext) > 200:
            return None
        runtime: Any = scope["app"].state.runtime
        async with read_scope(runtime.sessions) as session:
            return await authenticate(session, plaintext)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the disconnect, when it comes

    return replay
