"""/v1/do-not-contact: the global list of numbers that are never called or texted."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.models import DoNotContact
from dialer.optouts import service
from dialer.phone import InvalidNumber, to_e164

__all__ = ["router"]

router = APIRouter(prefix="/v1/do-not-contact", tags=["do-not-contact"])


class BlockCreate(BaseModel):
    number: str = Field(min_length=1, max_length=32)
    reason: str | None = Field(None, max_length=500)


class BlockPublic(BaseModel):
    number: str
    source: str
    reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: DoNotContact) -> BlockPublic:
        return cls.model_validate(entry, from_attributes=True)


def _number(raw: str, region: str, where: tuple[str, ...]) -> str:
    try:
        return to_e164(raw, region)
    except InvalidNumber as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": where,
                    "msg": f"invalid phone number: {exc}",
                    "input": raw,
                }
            ]
        ) from exc


@router.get("", response_model=list[BlockPublic])
async def list_numbers(session: ReadSessionDep, _key: ApiKeyDep) -> list[BlockPublic]:
    return [BlockPublic.of(e) for e in await service.list_blocked(session)]


@router.post("", response_model=BlockPublic, status_code=status.HTTP_201_CREATED)
async def add_number(
    body: BlockCreate,
    runtime: RuntimeDep,
    session: SessionDep,
    _key: ApiKeyDep,
    response: Response,
) -> BlockPublic:
    number = _number(body.number, runtime.settings.default_region, ("body", "number"))
    already = await service.is_blocked(session, number)
    entry = await service.block_number(session, number, source="api", reason=body.reason)
    if already:
        response.status_code = status.HTTP_200_OK
    return BlockPublic.of(entry)


@router.delete("/{number}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_number(
    number: str, runtime: RuntimeDep, session: SessionDep, _key: ApiKeyDep
) -> Response:
    normalised = _number(number, runtime.settings.default_region, ("path", "number"))
    if not await service.unblock_number(session, normalised):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{normalised} is not on the list")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
