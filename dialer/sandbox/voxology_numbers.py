"""The sandbox's Voxology number provisioning: POST and DELETE /v1/PhoneNumbers/{assigned_to},
one request at a time per API key, as the reference says; a concurrent one gets 423001."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dialer.sandbox.state import SandboxAccount
from dialer.sandbox.voxology import voxology_error

__all__ = ["voxology_numbers_router"]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_DESTINATIONS = re.compile(r"^(CallFlows|ParkingLot|Trunks/[A-Za-z0-9_-]+)$")


def _formatted(no: str) -> str:
    if no.startswith("+1") and len(no) == 12:
        return f"({no[2:5]}) {no[5:8]}-{no[8:]}"
    return no


def _number(no: str, assigned_to: str) -> dict[str, Any]:
    return {
        "no": no,
        "formatted": _formatted(no),
        "assigned_to": assigned_to,
        "description": "",
        "capabilities": ["sms_inbound", "sms_outbound", "voice_inbound", "voice_outbound"],
        "caller_id_name": "",
        "status": "routed",
        "usage": 0,
        "type": "local",
        "price": 0.03,
        "price_period": "day",
        "created_on": datetime.now(UTC).isoformat(timespec="seconds"),
        "estimated_active_date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def voxology_numbers_router(account: SandboxAccount, scaled: Callable[[float], float]) -> APIRouter:
    router = APIRouter(prefix="/v1")

    async def change(request: Request, assigned_to: str) -> list[str] | Response:
        """The numbers of a valid provisioning request, once it holds the one slot; or an error."""
        if request.headers.get("X-API-Key") != account.config.voxology_api_key:
            return voxology_error(401, 401001, "Failed Authentication")
        if not _DESTINATIONS.match(assigned_to):
            return voxology_error(400, 400001, "Validation Error: assigned_to")
        try:
            body = await request.json()
            numbers = [str(item["no"]) for item in body["phone_numbers"]]
        except (ValueError, KeyError, TypeError):
            return voxology_error(400, 400001, "Validation Error: phone_numbers")
        if not numbers or not all(_E164.match(no) for no in numbers):
            return voxology_error(400, 400001, "Validation Error: phone_numbers[i].no")
        if account.voxology_provisioning:
            account.voxology_locked += 1
            return voxology_error(423, 423001, "Concurrent Request Error")
        account.voxology_provisioning = True
        try:
            await asyncio.sleep(scaled(account.config.voxology_provisioning_s))
        finally:
            account.voxology_provisioning = False
        return numbers

    @router.post("/PhoneNumbers/{assigned_to:path}")
    async def provision(assigned_to: str, request: Request) -> Response:
        numbers = await change(request, assigned_to)
        if isinstance(numbers, Response):
            return numbers
        for no in numbers:
            account.voxology_numbers[no] = _number(no, assigned_to)
        held = [n for n in account.voxology_numbers.values() if n["assigned_to"] == assigned_to]
        return JSONResponse({"assigned_to": assigned_to, "phone_numbers": held})

    @router.delete("/PhoneNumbers/{assigned_to:path}")
    async def release(assigned_to: str, request: Request) -> Response:
        numbers = await change(request, assigned_to)
        if isinstance(numbers, Response):
            return numbers
        for no in numbers:
            account.voxology_numbers.pop(no, None)
        return Response(status_code=204)

    return router
