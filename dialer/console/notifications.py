"""/notifications: every message to a number, or the API's notifications by status and time;
and one notification's attempts as a timeline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from dialer.bounds import MAX_ID, RowId
from dialer.console.auth import AdminDep, OperatorDep
from dialer.console.pages import render
from dialer.db import read_scope, session_scope
from dialer.deps import RuntimeDep
from dialer.errors import NotFound
from dialer.models import Campaign
from dialer.notifications import service
from dialer.notifications.search import Search, search_notifications
from dialer.phone import InvalidNumber, to_e164
from dialer.vocabulary import FINAL_NOTIFICATION, NotificationStatus

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE = 50


def _day_start(day: date | None, zone: str, days: int = 0) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days), time(0), tzinfo=ZoneInfo(zone))


@router.get("/notifications")
async def notification_list(
    runtime: RuntimeDep,
    operator: OperatorDep,
    number: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    zone = runtime.settings.console_timezone
    problems: list[str] = []
    e164 = None
    if number and number.strip():
        try:
            e164 = to_e164(number, runtime.settings.default_region)
        except (InvalidNumber, ValueError) as exc:
            problems.append(f"{number!r} is not a phone number: {exc}")
    wanted = None
    if status:
        try:
            wanted = NotificationStatus(status)
        except ValueError:
            problems.append(f"no status {status!r}")
    days: dict[str, date | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            problems.append(f"{name}: {value!r} is not a date (2026-12-01)")
            days[name] = None
    found = []
    if not problems:
        search = Search(
            number=e164,
            status=wanted,
            since=_day_start(days["since"], zone),
            until=_day_start(days["until"], zone, days=1),
            before=before,
            limit=PAGE,
        )
        async with read_scope(runtime.sessions) as session:
            found = await search_notifications(session, search)
    query = {
        "number": number or "",
        "status": status or "",
        "since": since or "",
        "until": until or "",
    }
    return render(
        "notifications/list.html",
        {
            "operator": operator,
            "section": "notifications",
            "zone": zone,
            "rows": found,
            "problems": problems,
            "query": query,
            "statuses": list(NotificationStatus),
            "older": found[-1].id if len(found) == PAGE else None,
        },
        422 if problems else 200,
    )


@router.get("/notifications/{notification_id}")
async def notification_page(
    notification_id: RowId, runtime: RuntimeDep, operator: OperatorDep
) -> Response:
    async with read_scope(runtime.sessions) as session:
        found = await service.get_notification(session, notification_id)
        if found is None:
            raise NotFound(f"no notification {notification_id}")
        notification, attempts = found
        campaign = (
            await session.get(Campaign, notification.campaign_id)
            if notification.campaign_id is not None
            else None
        )
    return render(
        "notifications/page.html",
        {
            "operator": operator,
            "section": "notifications",
            "zone": runtime.settings.console_timezone,
            "notification": notification,
            "attempts": attempts,
            "campaign": campaign,
            "final": notification.status in FINAL_NOTIFICATION,
        },
    )


@router.post("/notifications/{notification_id}/cancel")
async def cancel(notification_id: RowId, runtime: RuntimeDep, _operator: AdminDep) -> Response:
    async with session_scope(runtime.sessions) as session:
        found = await service.cancel_notification(session, notification_id)
    if found is None:
        raise NotFound(f"no notification {notification_id}")
    return RedirectResponse(f"/notifications/{notification_id}", 303)
