"""The API's error answers, documented where they can happen: every route's OpenAPI lists each
status it may give, so a client (and schemathesis) knows them all. And CSV files as streamed
downloads."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialer.guard import SAFE_METHODS, needs_key
from dialer.spreadsheets import safe_cell

__all__ = [
    "PROBLEM_SCHEMA",
    "AllowedMethods",
    "csv_response",
    "csv_text_response",
    "document_errors",
    "problems",
]

# {"detail": "..."}: an answer about the request as a whole (422s name their fields instead).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
_WHY = {
    400: "The request cannot be read: a Content-Length that is not a number of bytes",
    401: "No valid API key: send Authorization: Bearer <key>",
    402: "The provider account has not enough credit",
    403: "The API key's scope is viewer: it may only read",
    404: "Nothing has this id",
    409: "The resource's state does not allow this now (the detail says why)",
    413: "The request body is over its limit",
    502: "The provider answered with an error",
    503: "The provider cannot be reached or asks to wait (see Retry-After)",
}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these statuses, each a Problem."""
    return {
        code: {
            "description": _WHY[code],
            "content": {"application/json": {"schema": PROBLEM_SCHEMA}},
        }
        for code in codes
    }


def _codes(path: str, method: str) -> list[int]:
    codes: list[int] = []
    if needs_key(path):
        codes.append(401)
        if method.upper() not in SAFE_METHODS:
            codes.append(403)
    if method.upper() in _BODY_METHODS:
        codes += [400, 413]
    if "{" in path:
        codes.append(404)
    return codes


def document_errors(app: FastAPI) -> None:
    """Add to every API operation the answers that come from outside its own code: 401 from
    the guard on keyed routes, 400 and 413 from it on routes with a body, 404 on routes that
    name a resource in their path. (Added to the generated schema, as FastAPI's documentation
    extends it, rather than to the routes themselves.)"""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # cached by FastAPI as app.openapi_schema: changed in place
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code, response in problems(*_codes(path, method)).items():
                    responses.setdefault(str(code), response)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class AllowedMethods:
    """ASGI middleware: a 405's Allow header lists every method the path has. (FastAPI makes
    one route per method, and Starlette's 405 names only the methods of the route it tried.)"""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._paths: list[tuple[re.Pattern[str], str]] | None = None

    def _allowed(self, path: str) -> str | None:
        if self._paths is None:
            self._paths = [
                (
                    re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"),
                    ", ".join(sorted(m.upper() for m in operations)),
                )
                for template, operations in self.api.openapi().get("paths", {}).items()
            ]
        return next((methods for pattern, methods in self._paths if pattern.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_allowed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = self._allowed(scope["path"])
                if allowed is not None:
                    headers = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", allowed.encode())]}
            await send(message)

        await self.app(scope, receive, send_allowed)


def csv_response(
    header: list[str],
    pages: AsyncIterator[Sequence[list[Any]]],
    name: str,
    *,
    bom: bool = False,
    guarded: bool = False,
) -> StreamingResponse:
    """A CSV download of `pages` of rows, each cell through the spreadsheet guard unless the
    rows are `guarded` already (a large export guards only its cells that came from outside),
    sent in chunks of about 64 KB or a page, whichever is larger."""

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        if bom:
            buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(header)
        async for page in pages:
            writer.writerows(page if guarded else [[safe_cell(v) for v in row] for row in page])
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return _download(lines(), name)


def csv_text_response(
    header: list[str], chunks: AsyncIterator[bytes], name: str, *, bom: bool = False
) -> StreamingResponse:
    """A CSV download of rows made as CSV text already (UTF-8), after `header`."""

    async def text() -> AsyncIterator[bytes]:
        first = io.StringIO()
        if bom:
            first.write("\ufeff")
        csv.writer(first).writerow(header)
        yield first.getvalue().encode()
        async for chunk in chunks:
            yield chunk

    return _download(text(), name)


def _download(body: AsyncIterator[str] | AsyncIterator[bytes], name: str) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
