"""Provider callbacks. Each URL carries an attempt id and a token signed for it alone."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import PlainTextResponse

from dialer.db import session_scope
from dialer.deps import RuntimeDep
from dialer.models import utcnow
from dialer.providers.base import StatusReport
from dialer.providers.xoxzo import parse_call_status, parse_message_status
from dialer.security import verify_callback_token
from dialer.tracking.service import apply_call_status, load_for_update

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"], include_in_schema=False)


async def _fields(request: Request) -> dict[str, Any]:
    # Xoxzo does not document the callback's content type, so both are accepted.
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body is not JSON") from exc
        if not isinstance(body, dict):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body is not an object")
        return body
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


_PARSERS: dict[str, Callable[[Mapping[str, Any]], StatusReport]] = {
    "voice": parse_call_status,
    "sms": parse_message_status,
}
_ID_FIELD = {"voice": "callid", "sms": "msgid"}


@router.post("/xoxzo/{kind}/{attempt_id}", response_class=PlainTextResponse)
@router.post("/xoxzo/{kind}/{attempt_id}/", response_class=PlainTextResponse)
async def xoxzo_without_token(kind: str, attempt_id: int) -> str:
    raise HTTPException(status.HTTP_403_FORBIDDEN, "missing callback token")


@router.post("/xoxzo/{kind}/{attempt_id}/{token}", response_class=PlainTextResponse)
async def xoxzo_status(
    kind: Literal["voice", "sms"],
    attempt_id: int,
    token: str,
    request: Request,
    runtime: RuntimeDep,
) -> str:
    """Xoxzo's end-of-call POST, or an SMS delivery report."""
    secret = runtime.settings.secret_key.get_secret_value()
    if not verify_callback_token(secret, "xoxzo", attempt_id, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad callback token")
    fields = await _fields(request)
    missing = [name for name in (_ID_FIELD[kind], "status") if not fields.get(name)]
    if missing:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"missing field: {', '.join(missing)}"
        )
    try:
        report = _PARSERS[kind](fields)
    except (ValueError, TypeError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"bad field: {exc}") from exc
    async with session_scope(runtime.sessions) as session:
        loaded = await load_for_update(session, attempt_id)
        if loaded is None or (kind == "voice") != loaded[1].channel.is_voice:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} attempt {attempt_id}")
        attempt, notification = loaded
        result = apply_call_status(
            notification, attempt, report, utcnow(), runtime.settings.poll_interval_s
        )
    log.info("xoxzo %s callback for attempt %s: %s", kind, attempt_id, result)
    # 200 even for a duplicate, or Xoxzo sends it again up to ten times.
    return "OK"
