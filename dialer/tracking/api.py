"""Provider callbacks. Each URL carries an attempt id and a token signed for it alone."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from dialer.bounds import RowId
from dialer.deps import RuntimeDep
from dialer.errors import FieldError, FieldErrors, Forbidden, NotFound
from dialer.group_commit import Merge
from dialer.metrics import CALLBACKS
from dialer.security import verify_callback_token
from dialer.tracking.schemas import ID_FIELD, PARSERS, Kind, Provider
from dialer.tracking.service import Callback, apply_callbacks

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], include_in_schema=False)
_CALLBACKS = Merge(apply_callbacks)


async def _fields(request: Request) -> dict[str, Any]:
    # Xoxzo does not document the callback's content type, so both are accepted.
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise FieldError("", "body is not JSON") from exc
        if not isinstance(body, dict):
            raise FieldError("", "body is not an object")
        return body
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


@router.post("/{provider}/{kind}/{attempt_id}", response_class=PlainTextResponse)
@router.post("/{provider}/{kind}/{attempt_id}/", response_class=PlainTextResponse)
async def without_token(provider: Provider, kind: Kind, attempt_id: RowId) -> str:
    raise Forbidden("missing callback token")


@router.post("/{provider}/{kind}/{attempt_id}/{token}", response_class=PlainTextResponse)
async def provider_status(
    provider: Provider,
    kind: Kind,
    attempt_id: RowId,
    token: str,
    request: Request,
    runtime: RuntimeDep,
) -> str:
    """Xoxzo's end-of-call POST and SMS delivery reports; Voxology's message status webhooks."""
    secret = runtime.settings.secret_key.get_secret_value()
    if not verify_callback_token(secret, provider, attempt_id, token):
        raise Forbidden("bad callback token")
    parse = PARSERS.get((provider, kind))
    if parse is None:
        raise NotFound(f"no {provider} {kind} callbacks")
    fields = await _fields(request)
    missing = [name for name in (ID_FIELD[(provider, kind)], "status") if not fields.get(name)]
    if missing:
        raise FieldErrors([FieldError(name, "missing") for name in missing])
    try:
        report = parse(fields)
    except (ValueError, TypeError) as exc:
        raise FieldError("", f"bad field: {exc}") from exc
    interval = runtime.settings.poll_interval_s
    callback = Callback(attempt_id, provider, kind == "voice", report, interval)
    # Recorded with the other callbacks that wait at the same moment, in one transaction.
    result = await runtime.writes.merged(_CALLBACKS, callback)
    if result is None:
        raise NotFound(f"no {provider} {kind} attempt")
    log.debug("%s %s callback for attempt %s: %s", provider, kind, attempt_id, result)
    CALLBACKS.labels(provider, "taken").inc()
    # 200 even for a duplicate, or the provider sends it again.
    return "OK"
