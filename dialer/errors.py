"""The API's one error tree. Services and routes raise a DialerError; one handler (installed by
dialer.app) turns it into a response with one body shape: `{"detail": "why"}`, except a 422,
whose detail lists the fields at fault as FastAPI's own validation errors do:
`{"detail": [{"type": "value_error", "loc": ["body", "field"], "msg": "why", "input": ...}]}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from dialer.logs import fields
from dialer.metrics import CALLBACKS

log = logging.getLogger(__name__)

__all__ = [
    "BadRequest",
    "Conflict",
    "DialerError",
    "FieldError",
    "FieldErrors",
    "Forbidden",
    "NotFound",
    "PaymentRequired",
    "ProviderFailed",
    "Unauthorized",
    "Unavailable",
    "install_error_handler",
]


class DialerError(Exception):
    """A request the dialer answers with `status_code` and why."""

    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})

    def detail(self) -> Any:
        return self.message


class BadRequest(DialerError):
    status_code = 400


class Unauthorized(DialerError):
    status_code = 401


class PaymentRequired(DialerError):
    status_code = 402


class Forbidden(DialerError):
    status_code = 403


class NotFound(DialerError):
    status_code = 404


class Conflict(DialerError):
    """The resource's state does not allow this now."""

    status_code = 409


class FieldError(DialerError):
    """A request field that is well-formed but unusable, e.g. a number no country has. `field`
    is dotted for a nested one ("policy.sms_fallback.template")."""

    status_code = 422

    def __init__(
        self, field: str, message: str, *, value: Any = None, location: str = "body"
    ) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.value = value
        self.location = location

    def item(self) -> dict[str, Any]:
        loc = [self.location, *self.field.split(".")] if self.field else [self.location]
        return {"type": "value_error", "loc": loc, "msg": self.message, "input": self.value}

    def detail(self) -> Any:
        return [self.item()]


class FieldErrors(DialerError):
    """Several fields at fault at once."""

    status_code = 422

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = list(errors)

    def detail(self) -> Any:
        return [e.item() for e in self.errors]


class ProviderFailed(DialerError):
    """The provider answered with an error."""

    status_code = 502


class Unavailable(DialerError):
    """The provider cannot be reached or asks to wait."""

    status_code = 503


# What providers call: a refusal there is a call or a text whose news may be lost, so it is said.
_PROVIDER_PATHS = ("/v1/callbacks/", "/v1/flows/", "/v1/din/action/")


def _log_refusal(request: Request, exc: DialerError) -> None:
    path = request.url.path
    if not path.startswith(_PROVIDER_PATHS):
        return
    # The last segment of a callback or action URL is its token.
    shown = path.rsplit("/", 1)[0] + "/…" if not path.startswith("/v1/flows/") else path
    provider = path.split("/")[3] if path.startswith("/v1/callbacks/") else "voxology"
    if path.startswith("/v1/din/action/"):
        provider = "xoxzo"
    CALLBACKS.labels(provider, "refused").inc()
    log.warning(
        "refused %s %s: %s %s",
        request.method,
        shown,
        exc.status_code,
        exc.message,
        extra=fields(path=shown, status_code=exc.status_code, error=exc.message),
    )


async def _answer(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DialerError)
    _log_refusal(request, exc)
    return JSONResponse(
        {"detail": jsonable_encoder(exc.detail())},
        status_code=exc.status_code,
        headers=exc.headers or None,
    )


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(DialerError, _answer)
