"""/webhooks: the endpoints events go to, their recent events with every try, a resend; and
registering a new endpoint (its secret shown once, as the API does)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dialer.bounds import MAX_ID, RowId
from dialer.console.auth import AdminDep, Operator, OperatorDep
from dialer.console.pages import render
from dialer.db import read_scope, session_scope
from dialer.deps import RuntimeDep
from dialer.errors import FieldError
from dialer.runtime import Runtime
from dialer.webhooks import service
from dialer.webhooks.schemas import EndpointCreate

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
RECENT = 20


async def _list_page(
    runtime: Runtime,
    operator: Operator,
    *,
    problem: str | None = None,
    registered: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    async with read_scope(runtime.sessions) as session:
        endpoints = await service.list_endpoints(session)
        counts = await service.event_counts(session)
    context = {
        "operator": operator,
        "section": "webhooks",
        "zone": runtime.settings.console_timezone,
        "endpoints": endpoints,
        "counts": counts,
        "problem": problem,
        "registered": registered,
        "default_url": runtime.settings.webhook_url,
    }
    return render("webhooks/list.html", context, status)


@router.get("/webhooks")
async def webhooks(runtime: RuntimeDep, operator: OperatorDep) -> Response:
    return await _list_page(runtime, operator)


@router.post("/webhooks")
async def register(request: Request, runtime: RuntimeDep, operator: AdminDep) -> Response:
    url = (await request.form()).get("url")
    try:
        body = EndpointCreate.model_validate({"url": url if isinstance(url, str) else ""})
        allow = runtime.settings.webhook_allow_private
        async with session_scope(runtime.sessions) as session:
            endpoint, created = await service.register_checked(
                session, str(body.url), allow_private=allow
            )
            shown = {"url": endpoint.url, "secret": endpoint.secret, "created": created}
    except ValidationError as exc:
        problem = f"url: {exc.errors()[0]['msg']}"
        return await _list_page(runtime, operator, problem=problem, status=422)
    except FieldError as exc:
        return await _list_page(runtime, operator, problem=str(exc), status=422)
    return await _list_page(runtime, operator, registered=shown)


@router.get("/webhooks/{endpoint_id}")
async def endpoint_page(
    endpoint_id: RowId,
    runtime: RuntimeDep,
    operator: OperatorDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    async with read_scope(runtime.sessions) as session:
        endpoint = await service.get_endpoint(session, endpoint_id)
        events = await service.recent_events(session, endpoint_id, RECENT, before)
    return render(
        "webhooks/endpoint.html",
        {
            "operator": operator,
            "section": "webhooks",
            "zone": runtime.settings.console_timezone,
            "endpoint": endpoint,
            "events": events,
            "older": events[-1].id if len(events) == RECENT else None,
        },
    )


@router.get("/webhooks/events/{event_id}")
async def event_page(event_id: RowId, runtime: RuntimeDep, operator: OperatorDep) -> Response:
    async with read_scope(runtime.sessions) as session:
        event = await service.get_event(session, event_id)
        tries = await service.deliveries_of(session, event_id)
    try:
        body = json.dumps(json.loads(event.body), ensure_ascii=False, indent=2)
    except ValueError:
        body = event.body
    return render(
        "webhooks/event.html",
        {
            "operator": operator,
            "section": "webhooks",
            "zone": runtime.settings.console_timezone,
            "event": event,
            "tries": tries,
            "body": body,
        },
    )


@router.post("/webhooks/events/{event_id}/resend")
async def resend(event_id: RowId, runtime: RuntimeDep, _operator: AdminDep) -> Response:
    async with session_scope(runtime.sessions) as session:
        await service.resend_event(session, event_id)
    return RedirectResponse(f"/webhooks/events/{event_id}", 303)
