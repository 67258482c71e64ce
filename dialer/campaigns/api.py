"""/v1/campaigns: create a campaign, upload its contacts, run it, and read its results."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import Json
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.bounds import MAX_ID, RowId
from dialer.campaigns import service
from dialer.campaigns.activity import pacing_of
from dialer.campaigns.counts import campaign_counts, counts_of
from dialer.campaigns.credit import campaign_estimate
from dialer.campaigns.downloads import BomQuery, issues_download, results_download
from dialer.campaigns.lifecycle import Action, change_state
from dialer.campaigns.schemas import (
    CampaignCreate,
    CampaignPublic,
    ContactIn,
    ContactsIn,
    EstimatePublic,
    PauseBody,
    TestCall,
)
from dialer.campaigns.setup import create_checked, import_file
from dialer.campaigns.testcall import place_test_call
from dialer.contacts.reader import CsvLayout
from dialer.db import read_scope
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.models import Campaign
from dialer.notifications.schemas import NotificationPublic
from dialer.notifications.service import get_notification
from dialer.repeated_keys import refuse_repeated_keys
from dialer.responses import problems
from dialer.runtime import Runtime
from dialer.vocabulary import CampaignStatus

__all__ = ["router"]

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


def contacts_csv(contacts: list[ContactIn]) -> bytes:
    """The same contacts as a CSV the importer reads, so both ways in share every rule."""
    names = sorted({name for c in contacts for name in c.variables})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["phone", "timezone", *names])
    for c in contacts:
        values = [c.variables.get(name, "") for name in names]
        writer.writerow([c.phone, c.timezone or "", *values])
    return buffer.getvalue().encode()


CSV_RESPONSE: dict[str, Any] = {
    "description": "A CSV file with a header row",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


async def _campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    return await service.get_campaign(session, campaign_id)


async def _public(session: AsyncSession, campaign: Campaign) -> CampaignPublic:
    assert campaign.id is not None
    return CampaignPublic.of(campaign, await campaign_counts(session, campaign.id))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model_by_alias=True,
    responses=problems(409),
    dependencies=[Depends(refuse_repeated_keys)],
)
async def create(
    body: CampaignCreate, runtime: RuntimeDep, session: SessionDep, _key: ApiKeyDep
) -> CampaignPublic:
    campaign = await create_checked(runtime, session, body)
    return await _public(session, campaign)


@router.get("", response_model_by_alias=True)
async def list_campaigns(
    session: ReadSessionDep,
    _key: ApiKeyDep,
    status_: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only campaigns with a smaller id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CampaignPublic]:
    """Campaigns, newest first, each with its counts and progress; page with `before` = the
    last id seen."""
    campaigns = await service.list_campaigns(session, status_, before, limit)
    counts = await counts_of(session, [c.id for c in campaigns if c.id is not None])
    return [CampaignPublic.of(c, counts[c.id]) for c in campaigns if c.id is not None]


@router.get("/{campaign_id}/estimate", responses=problems(409))
async def estimate(
    campaign_id: RowId, session: ReadSessionDep, runtime: RuntimeDep, _key: ApiKeyDep
) -> EstimatePublic:
    """The cost of dialling what is left, the balance read now, and whether start (or resume)
    would be allowed, and if not why."""
    campaign = await _campaign(session, campaign_id)
    return await campaign_estimate(session, runtime, campaign)


@router.get("/{campaign_id}", response_model_by_alias=True)
async def read(
    campaign_id: RowId, session: ReadSessionDep, runtime: RuntimeDep, _key: ApiKeyDep
) -> CampaignPublic:
    campaign = await _campaign(session, campaign_id)
    public = await _public(session, campaign)
    public.pacing = await pacing_of(runtime, campaign)
    return public


@router.post("/{campaign_id}/contacts", status_code=status.HTTP_201_CREATED)
async def upload_contacts(
    campaign_id: RowId,
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    file: Annotated[UploadFile, File(description="CSV with a header row")],
    phone_column: Annotated[str | None, Form(max_length=200)] = None,
    timezone_column: Annotated[str | None, Form(max_length=200)] = None,
    send_at_column: Annotated[str | None, Form(max_length=200)] = None,
    encoding: Annotated[str | None, Form(pattern=r"^(utf-8|utf-8-sig|shift_jis|cp932)$")] = None,
    rename: Annotated[
        Json[dict[str, str]] | None,
        Form(description='CSV header -> variable name, as JSON: {"first name": "first_name"}'),
    ] = None,
) -> dict[str, Any]:
    layout = CsvLayout(
        phone_column=phone_column,
        timezone_column=timezone_column,
        send_at_column=send_at_column,
        encoding=encoding,
        rename=rename or {},
    )
    return await import_file(runtime, campaign_id, file.file, layout, file.filename, "file")


@router.post("/{campaign_id}/contacts/json", status_code=status.HTTP_201_CREATED)
async def add_contacts(
    campaign_id: RowId, body: ContactsIn, runtime: RuntimeDep, _key: ApiKeyDep
) -> dict[str, Any]:
    """The same import from JSON; issues are numbered by the contact's place in the list, from 1."""
    layout = CsvLayout(phone_column="phone", timezone_column="timezone", header_row=0)
    stream = io.BytesIO(contacts_csv(body.contacts))
    return await import_file(runtime, campaign_id, stream, layout, None, "contacts")


@router.get(
    "/{campaign_id}/imports/{import_id}/issues.csv",
    response_class=StreamingResponse,
    responses={200: CSV_RESPONSE},
)
async def import_issues(
    campaign_id: RowId,
    import_id: RowId,
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    bom: BomQuery = False,
) -> StreamingResponse:
    return await issues_download(runtime, campaign_id, import_id, bom=bom)


@router.get(
    "/{campaign_id}/results.csv", response_class=StreamingResponse, responses={200: CSV_RESPONSE}
)
async def results(
    campaign_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep, bom: BomQuery = False
) -> StreamingResponse:
    return await results_download(runtime, campaign_id, bom=bom)


@router.post(
    "/{campaign_id}/test-call",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotificationPublic,
    response_model_by_alias=True,
    responses=problems(409),
)
async def test_call(
    campaign_id: RowId, body: TestCall, runtime: RuntimeDep, api_key: ApiKeyDep
) -> NotificationPublic:
    """One call of the campaign's message or script, rendered with its first contact's columns,
    to `to`: a notification of its own, outside the campaign's counts (GET
    /v1/notifications/{id} follows it)."""
    made = await place_test_call(runtime, campaign_id, body.to, api_key.id)
    assert made.id is not None
    async with read_scope(runtime.sessions) as session:
        found = await get_notification(session, made.id)
    assert found is not None
    return NotificationPublic.of(*found)


@router.post("/{campaign_id}/start", response_model_by_alias=True, responses=problems(409))
async def start(campaign_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep) -> CampaignPublic:
    return await _changed(runtime, campaign_id, "start")


@router.post("/{campaign_id}/resume", response_model_by_alias=True, responses=problems(409))
async def resume(campaign_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep) -> CampaignPublic:
    return await _changed(runtime, campaign_id, "resume")


@router.post("/{campaign_id}/pause", response_model_by_alias=True, responses=problems(409))
async def pause(
    campaign_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep, body: PauseBody | None = None
) -> CampaignPublic:
    return await _changed(runtime, campaign_id, "pause", (body or PauseBody()).reason)


@router.post("/{campaign_id}/cancel", response_model_by_alias=True, responses=problems(409))
async def cancel(campaign_id: RowId, runtime: RuntimeDep, _key: ApiKeyDep) -> CampaignPublic:
    return await _changed(runtime, campaign_id, "cancel")


async def _changed(
    runtime: Runtime, campaign_id: int, action: Action, reason: str = ""
) -> CampaignPublic:
    await change_state(runtime, campaign_id, action, reason)
    async with read_scope(runtime.sessions) as session:
        return await _public(session, await _campaign(session, campaign_id))
