"""/campaigns: the list, a campaign's page with its live part and chart, its actions and its
downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from dialer.bounds import MAX_ID, RowId
from dialer.campaigns import service
from dialer.campaigns.activity import (
    finals_per_minute,
    finals_rates,
    first_contacts,
    first_issues,
    imports_of,
    pacing_of,
    recent_attempts,
)
from dialer.campaigns.counts import campaign_counts, counts_of
from dialer.campaigns.credit import campaign_estimate
from dialer.campaigns.downloads import issues_download, results_download
from dialer.campaigns.lifecycle import Action, change_state
from dialer.campaigns.messages import render_contact
from dialer.campaigns.schemas import CampaignPublic
from dialer.campaigns.setup import import_file
from dialer.console.auth import AdminDep, Operator, OperatorDep
from dialer.console.pages import SECURITY_HEADERS, render, render_fragment
from dialer.contacts.reader import CsvLayout
from dialer.db import read_scope
from dialer.deps import RuntimeDep
from dialer.errors import DialerError, FieldError
from dialer.models import Campaign
from dialer.runtime import Runtime
from dialer.vocabulary import FINAL_NOTIFICATION, CampaignStatus

__all__ = ["ENCODINGS", "campaign_view", "router"]

router = APIRouter(include_in_schema=False)

ENDED = (CampaignStatus.completed, CampaignStatus.canceled)
# A draft's page shows its message for these many of its first contacts.
PREVIEW_CONTACTS = 3
ENCODINGS = {"": "detect (UTF-8 or Shift_JIS)", "utf-8": "UTF-8", "cp932": "Shift_JIS (Excel)"}


def _base(operator: Operator, runtime: Runtime, section: str) -> dict[str, Any]:
    return {"operator": operator, "section": section, "zone": runtime.settings.console_timezone}


@dataclass(frozen=True)
class CampaignRow:
    campaign: CampaignPublic
    total: int
    open: int
    rate: float


def _open(statuses: dict[str, int]) -> int:
    return sum(n for s, n in statuses.items() if s not in FINAL_NOTIFICATION)


def _row(campaign: CampaignPublic, rate: float) -> CampaignRow:
    total = sum(campaign.counts.values())
    return CampaignRow(campaign, total, _open(campaign.counts), rate)


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/campaigns", 303)


@router.get("/campaigns")
async def campaign_list(
    runtime: RuntimeDep,
    operator: OperatorDep,
    status: Annotated[CampaignStatus | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    page = 50
    async with read_scope(runtime.sessions) as session:
        campaigns = await service.list_campaigns(session, status, before, page)
        ids = [c.id for c in campaigns if c.id is not None]
        counts = await counts_of(session, ids)
        rates = await finals_rates(session, ids)
    rows = [_row(CampaignPublic.of(c, counts[c.id]), rates[c.id]) for c in campaigns if c.id]
    return render(
        "campaigns/list.html",
        {
            **_base(operator, runtime, "campaigns"),
            "rows": rows,
            "status": status,
            "statuses": list(CampaignStatus),
            "older": ids[-1] if len(ids) == page else None,
        },
    )


async def _live(runtime: Runtime, campaign_id: int) -> dict[str, Any]:
    async with read_scope(runtime.sessions) as session:
        campaign = await service.get_campaign(session, campaign_id)
        counts = await campaign_counts(session, campaign_id)
        rate = (await finals_rates(session, [campaign_id]))[campaign_id]
        recent = await recent_attempts(session, campaign_id)
    public = CampaignPublic.of(campaign, counts)
    open_ = _open(counts.statuses)
    return {
        "campaign": public,
        "rate": rate,
        "pacing": await pacing_of(runtime, campaign),
        "recent": recent,
        "total": sum(counts.statuses.values()),
        "open": open_,
        "settled": campaign.status in ENDED and open_ == 0,
        "campaign_row": campaign,
    }


@router.get("/campaigns/{campaign_id}")
async def campaign_page(campaign_id: RowId, runtime: RuntimeDep, operator: OperatorDep) -> Response:
    return await campaign_view(runtime, operator, campaign_id)


async def campaign_view(
    runtime: Runtime,
    operator: Operator,
    campaign_id: int,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    live = await _live(runtime, campaign_id)
    campaign: Campaign = live["campaign_row"]
    draft = campaign.status is CampaignStatus.draft
    async with read_scope(runtime.sessions) as session:
        uploads = await imports_of(session, campaign_id)
        issues = {u.id: await first_issues(session, u) for u in uploads}
        firsts = await first_contacts(session, campaign_id, PREVIEW_CONTACTS) if draft else []
        estimate = (
            await campaign_estimate(session, runtime, campaign)
            if campaign.status in (CampaignStatus.draft, CampaignStatus.paused)
            else None
        )
    previews = [
        (contact, await render_contact(runtime.templates, contact, campaign)) for contact in firsts
    ]
    context = {
        **_base(operator, runtime, "campaigns"),
        **live,
        "uploads": uploads,
        "issues": issues,
        "previews": previews,
        "estimate": estimate,
        "problem": problem,
        "encodings": ENCODINGS,
    }
    return render("campaigns/page.html", context, status)


@router.post("/campaigns/{campaign_id}/contacts")
async def upload_contacts(
    campaign_id: RowId, request: Request, runtime: RuntimeDep, operator: AdminDep
) -> Response:
    form = await request.form()
    try:
        return await _upload(runtime, operator, campaign_id, form)
    finally:
        await form.close()  # the upload's temporary file


async def _upload(
    runtime: Runtime, operator: Operator, campaign_id: int, form: FormData
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await campaign_view(runtime, operator, campaign_id, "Choose a CSV file.", 422)
    layout = CsvLayout(
        phone_column=_text(form.get("phone_column")) or None,
        encoding=_text(form.get("encoding")) or None,
    )
    try:
        await import_file(runtime, campaign_id, upload.file, layout, upload.filename, "file")
    except FieldError as exc:
        return await campaign_view(runtime, operator, campaign_id, exc.message, 422)
    return RedirectResponse(f"/campaigns/{campaign_id}", 303)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@router.get("/campaigns/{campaign_id}/live")
async def campaign_live(
    campaign_id: RowId,
    runtime: RuntimeDep,
    operator: OperatorDep,
    shown: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    live = await _live(runtime, campaign_id)
    if shown is not None and shown != live["campaign"].status.value:
        # Its status moved on: the whole page again, for the actions the new status allows.
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    html = render_fragment("campaigns/live.html", {**_base(operator, runtime, "campaigns"), **live})
    # Once it has ended and nothing is left ringing, the fragment comes without its trigger.
    return Response(html, headers=SECURITY_HEADERS, media_type="text/html")


@router.get("/campaigns/{campaign_id}/minutes.json")
async def campaign_minutes(
    campaign_id: RowId, runtime: RuntimeDep, _operator: OperatorDep
) -> Response:
    async with read_scope(runtime.sessions) as session:
        await service.get_campaign(session, campaign_id)
        found = await finals_per_minute(session, campaign_id)
    body = {"minutes": found.minutes, "outcomes": found.outcomes}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/campaigns/{campaign_id}/results.csv")
async def campaign_results(
    campaign_id: RowId, runtime: RuntimeDep, _operator: OperatorDep, bom: bool = True
) -> StreamingResponse:
    # Excel reads Japanese names rightly only with the byte-order mark, so the console adds it.
    return await results_download(runtime, campaign_id, bom=bom)


@router.get("/campaigns/{campaign_id}/imports/{import_id}/issues.csv")
async def import_issues(
    campaign_id: RowId,
    import_id: RowId,
    runtime: RuntimeDep,
    _operator: OperatorDep,
    bom: bool = True,
) -> StreamingResponse:
    return await issues_download(runtime, campaign_id, import_id, bom=bom)


async def _act(
    request: Request, runtime: Runtime, operator: Operator, campaign_id: int, action: Action
) -> Response:
    reason = ""
    if action == "pause":
        given = (await request.form()).get("reason")
        reason = given.strip()[:500] if isinstance(given, str) and given.strip() else ""
        reason = reason or f"paused in the console by {operator.key_name}"
    if action == "cancel" and (await request.form()).get("confirm") != "yes":
        return await _refused(runtime, operator, campaign_id, "Tick the box to confirm the cancel.")
    try:
        await change_state(runtime, campaign_id, action, reason)
    except DialerError as exc:
        if exc.status_code == 404:
            raise
        return await _refused(runtime, operator, campaign_id, exc.message, exc.status_code)
    return RedirectResponse(f"/campaigns/{campaign_id}", 303)


async def _refused(
    runtime: Runtime, operator: Operator, campaign_id: int, problem: str, status: int = 409
) -> Response:
    return await campaign_view(runtime, operator, campaign_id, problem, status)


@router.post("/campaigns/{campaign_id}/{action}")
async def act(
    campaign_id: RowId,
    action: Action,
    request: Request,
    runtime: RuntimeDep,
    operator: AdminDep,
) -> Response:
    """Start, pause (with a reason), resume, or cancel (once confirmed)."""
    return await _act(request, runtime, operator, campaign_id, action)
