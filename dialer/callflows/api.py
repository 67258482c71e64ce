"""/v1/flows/voxology: the URL every caller ID's callback configuration points at, for its
calls and for the texts people send to it."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from dialer.callflows.service import FlowRefused, FlowUnservable, answer_callback
from dialer.deps import RuntimeDep, SessionDep
from dialer.optouts.inbound import answer_inbound_message
from dialer.providers.fields import MalformedField
from dialer.providers.voxology import parse_inbound_message
from dialer.security import FLOW_SECRET_HEADER, verify_flow_secret

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/flows", tags=["callbacks"], include_in_schema=False)


@router.post("/voxology")
async def voxology_flow(request: Request, runtime: RuntimeDep, session: SessionDep) -> Any:
    secret = runtime.settings.secret_key.get_secret_value()
    if not verify_flow_secret(secret, request.headers.get(FLOW_SECRET_HEADER, "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad flow secret")
    try:
        body = await request.json()
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "body is not JSON") from exc
    try:
        if isinstance(body, dict) and (message := parse_inbound_message(body)) is not None:
            done = await answer_inbound_message(session, message, runtime.settings.default_region)
            log.info("voxology inbound message %s: %s", message.provider_id, done)
            return {}
        if not isinstance(body, dict) or not body.get("call_id") or not body.get("type"):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a call callback")
        answer = await answer_callback(session, body, secret, runtime.settings.poll_interval_s)
    except FlowRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except FlowUnservable as exc:
        log.error("voxology %s: %s", body.get("type"), exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except MalformedField as exc:
        log.warning("voxology callback refused: %s", exc)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"bad field: {exc}") from exc
    log.info("voxology %s for call %s", body["type"], body["call_id"])
    return answer
