"""Provider callbacks. Each URL carries an attempt id and a token signed for it alone."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import PlainTextResponse

from dialer.db import session_scope
from dialer.deps import RuntimeDep
from dialer.models import utcnow
from dialer.providers.xoxzo import parse_call_status
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


@router.post("/xoxzo/{attempt_id}", response_class=PlainTextResponse)
@router.post("/xoxzo/{attempt_id}/", response_class=PlainTextResponse)
async def xoxzo_without_token(attempt_id: int) -> str:
    raise HTTPException(status.HTTP_403_FORBIDDEN, "missing callback token")


@router.post("/xoxzo/{attempt_id}/{token}", response_class=PlainTextResponse)
async def xoxzo_call_ended(
    attempt_id: int, token: str, request: Request, runtime: RuntimeDep
) -> str:
    secret = runtime.settings.secret_key.get_secret_value()
    if not verify_callback_token(secret, "xoxzo", attempt_id, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad callback token")
    fields = await _fields(request)
    missing = [name for name in ("callid", "status") if not fields.get(name)]
    if missing:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"missing field: {', '.join(missing)}"
        )
    try:
        call_status = parse_call_status(fields)
    except (ValueError, TypeError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"bad field: {exc}") from exc
    async with session_scope(runtime.sessions) as session:
        loaded = await load_for_update(session, attempt_id)
        if loaded is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such attempt")
        attempt, notification = loaded
        result = apply_call_status(
            notification, attempt, call_status, utcnow(), runtime.settings.poll_interval_s
        )
    log.info("xoxzo callback for attempt %s: %s", attempt_id, result)
    # 200 even for a duplicate, or Xoxzo sends it again up to ten times.
    return "OK"
