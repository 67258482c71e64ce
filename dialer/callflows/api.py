"""/v1/flows/voxology: the URL every caller ID's callback configuration points at, for its
calls and for the texts people send to it."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from dialer.callflows import inbound
from dialer.callflows.inbound import answer_inbound, number_action
from dialer.callflows.schemas import ActionBody, NumberActionPublic
from dialer.callflows.service import FlowUnservable, answer_callback
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.errors import FieldError, Forbidden
from dialer.metrics import CALLBACKS
from dialer.optouts.inbound import answer_inbound_message
from dialer.providers.fields import MalformedField
from dialer.providers.voxology import parse_inbound_message
from dialer.security import FLOW_SECRET_HEADER, verify_flow_secret

__all__ = ["numbers_router", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/flows", tags=["callbacks"], include_in_schema=False)


@router.post("/voxology")
async def voxology_flow(request: Request, runtime: RuntimeDep, session: SessionDep) -> Any:
    secret = runtime.settings.secret_key.get_secret_value()
    if not verify_flow_secret(secret, request.headers.get(FLOW_SECRET_HEADER, "")):
        raise Forbidden("bad flow secret")
    try:
        body = await request.json()
    except ValueError as exc:
        raise FieldError("", "body is not JSON") from exc
    try:
        if isinstance(body, dict) and (message := parse_inbound_message(body)) is not None:
            done = await answer_inbound_message(session, message, runtime.settings.default_region)
            log.info("voxology inbound message %s: %s", message.provider_id, done)
            return {}
        if not isinstance(body, dict) or not body.get("call_id") or not body.get("type"):
            raise FieldError("", "not a call callback")
        if body.get("direction") == "inbound":
            # Someone calling one of our numbers: answered, never refused.
            settings = runtime.settings
            answer = await answer_inbound(
                session, body, settings.din_default_action, settings.default_region
            )
            log.info("voxology inbound %s for call %s", body["type"], body["call_id"])
            return answer
        answer = await answer_callback(session, body, secret, runtime.settings.poll_interval_s)
    except FlowUnservable as exc:
        log.error("voxology %s: %s", body.get("type"), exc)
        raise
    except MalformedField as exc:
        raise FieldError("", f"bad field: {exc}") from exc
    log.debug("voxology %s for call %s", body["type"], body["call_id"])
    CALLBACKS.labels("voxology", "taken").inc()
    return answer


numbers_router = APIRouter(prefix="/v1/numbers", tags=["numbers"])
E164Path = Annotated[str, Path(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164")]


@numbers_router.get("/{number}/action")
async def read_number_action(
    number: E164Path, session: ReadSessionDep, _key: ApiKeyDep
) -> NumberActionPublic:
    """What a Voxology number answers a caller we never called from it with."""
    row = await number_action(session, number)
    return NumberActionPublic(number=number, action=row.action if row else None)


@numbers_router.put("/{number}/action")
async def set_number_action(
    number: E164Path, body: ActionBody, session: SessionDep, _key: ApiKeyDep
) -> NumberActionPublic:
    """Set (or, with null, clear) what a Voxology number answers callers we never called."""
    await inbound.set_number_action(session, number, body.action)
    return NumberActionPublic(number=number, action=body.action)
