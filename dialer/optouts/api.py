"""/v1/do-not-contact: the global list of numbers that are never called or texted; and
/v1/campaigns/{id}/do-not-contact: numbers one campaign leaves out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.bounds import RowId
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.errors import FieldError, NotFound
from dialer.optouts import service
from dialer.optouts.schemas import BlockCreate, BlockPublic, EventPublic, ImportPublic
from dialer.optouts.transfer import EXPORT_HEADER, exported_rows, import_numbers
from dialer.phone import InvalidNumber, to_e164
from dialer.responses import csv_response

__all__ = ["campaign_router", "export_router", "router"]

router = APIRouter(prefix="/v1/do-not-contact", tags=["do-not-contact"])
export_router = APIRouter(tags=["do-not-contact"])
# A campaign's own list: numbers kept out of that campaign alone (the global list still applies).
campaign_router = APIRouter(
    prefix="/v1/campaigns/{campaign_id}/do-not-contact", tags=["do-not-contact"]
)


PathNumber = Annotated[str, Path(min_length=1, max_length=32)]


def _number(raw: str, region: str, where: tuple[str, ...]) -> str:
    try:
        return to_e164(raw, region)
    except InvalidNumber as exc:
        location, *field = where
        message = f"invalid phone number: {exc}"
        raise FieldError(".".join(field), message, value=raw, location=location) from exc


async def _list(session: AsyncSession, scope: str) -> list[BlockPublic]:
    return [BlockPublic.of(e) for e in await service.list_blocked(session, scope)]


async def _add(
    session: AsyncSession, scope: str, body: BlockCreate, region: str, response: Response
) -> BlockPublic:
    number = _number(body.number, region, ("body", "number"))
    already = await service.is_blocked(session, number, (scope,))
    entry = await service.block_number(
        session, number, source="api", reason=body.reason, scope=scope
    )
    if already:
        response.status_code = status.HTTP_200_OK
    return BlockPublic.of(entry)


async def _remove(session: AsyncSession, scope: str, number: str, region: str) -> Response:
    normalised = _number(number, region, ("path", "number"))
    if not await service.unblock_number(session, normalised, scope):
        raise NotFound(f"{normalised} is not on the list")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=list[BlockPublic])
async def list_numbers(session: ReadSessionDep, _key: ApiKeyDep) -> list[BlockPublic]:
    return await _list(session, service.GLOBAL)


@router.post(
    "",
    response_model=BlockPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": BlockPublic, "description": "On the list already"}},
)
async def add_number(
    body: BlockCreate,
    runtime: RuntimeDep,
    session: SessionDep,
    _key: ApiKeyDep,
    response: Response,
) -> BlockPublic:
    region = runtime.settings.default_region
    return await _add(session, service.GLOBAL, body, region, response)


@router.post("/import")
async def import_list(
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    file: Annotated[UploadFile, File(description="CSV: a header row, a number column, reason")],
) -> ImportPublic:
    """Add every number of a CSV file to the global list. Rows that are not numbers are
    reported (the first 100 listed), never a reason to stop; numbers already listed stay as
    they were."""
    report = await import_numbers(runtime, file.file, "import", runtime.settings.default_region)
    return ImportPublic.model_validate(report.as_dict())


@export_router.get(
    "/v1/do-not-contact.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def export_list(runtime: RuntimeDep, _key: ApiKeyDep) -> StreamingResponse:
    """The global list as CSV: number, source, reason, created_at."""
    return csv_response(EXPORT_HEADER, exported_rows(runtime), "do-not-contact.csv", bom=True)


@router.get("/{number}/history", response_model=list[EventPublic])
async def number_history(
    number: PathNumber, runtime: RuntimeDep, session: ReadSessionDep, _key: ApiKeyDep
) -> list[EventPublic]:
    """Every change to `number` on any list, oldest first."""
    normalised = _number(number, runtime.settings.default_region, ("path", "number"))
    return [
        EventPublic.model_validate(e, from_attributes=True)
        for e in await service.history(session, normalised)
    ]


@router.delete("/{number}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_number(
    number: PathNumber, runtime: RuntimeDep, session: SessionDep, _key: ApiKeyDep
) -> Response:
    return await _remove(session, service.GLOBAL, number, runtime.settings.default_region)


async def _campaign_scope(session: AsyncSession, campaign_id: int) -> tuple[str, str]:
    """The campaign's own list, and the region its numbers are read in; 404 if it is unknown."""
    region = await service.campaign_region(session, campaign_id)
    if region is None:
        raise NotFound(f"no campaign {campaign_id}")
    return service.campaign_scope(campaign_id), region


@campaign_router.get("", response_model=list[BlockPublic])
async def list_campaign_numbers(
    campaign_id: RowId, session: ReadSessionDep, _key: ApiKeyDep
) -> list[BlockPublic]:
    scope, _ = await _campaign_scope(session, campaign_id)
    return await _list(session, scope)


@campaign_router.post(
    "",
    response_model=BlockPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": BlockPublic, "description": "On the list already"}},
)
async def add_campaign_number(
    campaign_id: RowId,
    body: BlockCreate,
    session: SessionDep,
    _key: ApiKeyDep,
    response: Response,
) -> BlockPublic:
    scope, region = await _campaign_scope(session, campaign_id)
    return await _add(session, scope, body, region, response)


@campaign_router.delete("/{number}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_campaign_number(
    campaign_id: RowId, number: PathNumber, session: SessionDep, _key: ApiKeyDep
) -> Response:
    scope, region = await _campaign_scope(session, campaign_id)
    return await _remove(session, scope, number, region)
