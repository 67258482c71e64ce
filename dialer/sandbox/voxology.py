"""The sandbox's Voxology half, under /v1 as at api.voxolo.gy: Messages with status webhooks,
and the account balance. JSON bodies; errors in Voxology's shape."""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dialer.sandbox.documented import voxology_sms_parts
from dialer.sandbox.state import SandboxAccount

__all__ = [
    "VOXOLOGY_MESSAGE_OUTCOMES",
    "VoxologyMessage",
    "inbound_message_payload",
    "voxology_error",
    "voxology_router",
]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_TEXT = 1600

# The far end's last digit decides a message's fate; every other digit is delivered.
VOXOLOGY_MESSAGE_OUTCOMES = {"9": "undelivered", "8": "opt-out"}
_STEPS_S = (("queued", 0.5), ("sending", 1.0), ("sent", 1.5))


def voxology_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "ref_id": uuid.uuid4().hex,
            "status": status,
            "code": code,
            "message": message,
            "help": "",
            "user_message": "A 3rd-party service could not complete the request.",
        },
        status_code=status,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def inbound_message_payload(
    number: str, sender: str, text: str, created_on: str | None = None
) -> dict[str, Any]:
    """The callback request for a text `sender` sent to our `number`, as the documents show it
    (the location fields left out)."""
    message_id = f"SMI:{uuid.uuid4()}"
    return {
        "service": "programmable_messaging",
        "type": "sms",
        "app_id": "sandbox-app",
        "subaccount_id": 0,
        "api_no": number,
        "caller_no": sender,
        "error": None,
        "error_code": None,
        "direction": "inbound",
        "custom_data": None,
        "session_data": {},
        "message_id": message_id,
        "external_group_id": None,
        "external_id": None,
        "created_on": created_on or _now(),
        "num_parts": None,
        "uri": f"/v1/Messages/{message_id}",
        "text_message": text,
        "status": "received",
    }


@dataclass
class VoxologyMessage:
    message_id: str
    api_no: str
    caller_no: str
    text_message: str
    external_id: str | None
    status_webhook: str | None
    num_parts: int
    status: str = "accepted"
    created_on: str = field(default_factory=_now)
    updated_on: str = field(default_factory=_now)
    webhook_deliveries: list[tuple[str, int]] = field(default_factory=list)

    @property
    def charge(self) -> float:
        """Half a cent a part."""
        return round(0.005 * self.num_parts, 4)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": "programmable_messaging",
            "type": "sms",
            "app_id": "sandbox-app",
            "subaccount_id": 0,
            "message_id": self.message_id,
            "created_on": self.created_on,
            "updated_on": self.updated_on,
            "caller_no": self.caller_no,
            "api_no": self.api_no,
            "direction": "outbound",
            "status": self.status,
            "error": None,
            "error_code": None,
            "text_message": self.text_message,
            "external_id": self.external_id,
            "external_group_id": None,
            "num_parts": self.num_parts,
            "time_to_live": None,
            "uri": f"/v1/Messages/{self.message_id}",
            "charge": {"total": self.charge},
            "status_webhook": {"url": self.status_webhook} if self.status_webhook else None,
        }

    def webhook(self) -> dict[str, Any]:
        keys = (
            "service",
            "type",
            "app_id",
            "subaccount_id",
            "api_no",
            "caller_no",
            "direction",
            "message_id",
            "updated_on",
            "uri",
            "external_group_id",
            "external_id",
            "num_parts",
            "error",
            "error_code",
            "status",
        )
        body = self.as_json()
        return {k: body[k] for k in keys}


def voxology_router(
    account: SandboxAccount,
    client: Callable[[], httpx.AsyncClient],
    spawn: Callable[[Awaitable[None]], None],
    scaled: Callable[[float], float],
) -> APIRouter:
    router = APIRouter(prefix="/v1")
    messages: dict[str, VoxologyMessage] = {}
    account.voxology_messages = messages

    def app_key_ok(request: Request) -> bool:
        return request.headers.get("X-API-Key") == account.config.voxology_api_key

    async def notify(sms: VoxologyMessage) -> None:
        if not sms.status_webhook or account.chance(account.config.callback_drop_rate):
            return
        try:
            answer = await client().post(sms.status_webhook, json=sms.webhook())
            sms.webhook_deliveries.append((sms.status, answer.status_code))
        except httpx.HTTPError:
            sms.webhook_deliveries.append((sms.status, 0))

    async def deliver(sms: VoxologyMessage) -> None:
        final = VOXOLOGY_MESSAGE_OUTCOMES.get(sms.caller_no[-1], "delivered")
        steps = _STEPS_S if final != "opt-out" else ()
        elapsed = 0.0
        for status, at in steps:
            await asyncio.sleep(scaled(at - elapsed))
            elapsed = at
            sms.status, sms.updated_on = status, _now()
            await notify(sms)
        await asyncio.sleep(scaled(0.5))
        sms.status, sms.updated_on = final, _now()
        await notify(sms)

    @router.post("/Messages")
    async def send_message(request: Request) -> Response:
        if not app_key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        if account.config.voxology_balance <= 0:
            return voxology_error(402, 402001, "Insufficient Funds")
        try:
            body = await request.json()
        except ValueError:
            return voxology_error(400, 400010, "Parsing Error")
        problems = [
            name
            for name in ("api_no", "caller_no")
            if not isinstance(body.get(name), str) or not _E164.match(body[name])
        ]
        text = body.get("text_message")
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
            problems.append("text_message")
        if problems:
            return voxology_error(400, 400001, f"Validation Error: {', '.join(problems)}")
        webhook = body.get("status_webhook") or {}
        sms = VoxologyMessage(
            message_id=f"SMO:{uuid.uuid4()}",
            api_no=body["api_no"],
            caller_no=body["caller_no"],
            text_message=text,
            external_id=body.get("external_id"),
            status_webhook=webhook.get("url") if isinstance(webhook, dict) else None,
            num_parts=voxology_sms_parts(text),
        )
        messages[sms.message_id] = sms
        account.config.voxology_balance -= sms.charge
        spawn(deliver(sms))
        keys = (
            "api_no",
            "caller_no",
            "text_message",
            "external_id",
            "external_group_id",
            "time_to_live",
            "message_id",
            "status",
            "uri",
            "status_webhook",
        )
        full = sms.as_json()
        return JSONResponse({k: full[k] for k in keys})

    @router.get("/Messages")
    async def list_messages(request: Request, external_id: str | None = None) -> Response:
        if not app_key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        found = [m.as_json() for m in messages.values() if external_id in (None, m.external_id)]
        return JSONResponse({"messages": found[:1000], "is_truncated": len(found) > 1000})

    @router.get("/Messages/{message_id}")
    async def get_message(message_id: str, request: Request) -> Response:
        if not app_key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        sms = messages.get(message_id)
        if sms is None:
            return voxology_error(404, 404001, "Not Found")
        return JSONResponse(sms.as_json())

    @router.get("/Account/Billings/Balance")
    async def balance(request: Request) -> Response:
        expected = base64.b64encode(account.config.voxology_basic_auth.encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return voxology_error(401, 401002, "Failed Authentication")
        return JSONResponse({"balance": round(account.config.voxology_balance, 2)})

    return router
