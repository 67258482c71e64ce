"""/v1/dins: find, subscribe, configure and cancel Dial In Numbers; and the action server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import PlainTextResponse

from dialer.db import read_scope, session_scope
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.din import service
from dialer.din.schemas import ActionBody, DinPublic, DinSubscribe
from dialer.errors import (
    DialerError,
    FieldError,
    Forbidden,
    NotFound,
    PaymentRequired,
    ProviderFailed,
    Unavailable,
)
from dialer.providers import base as provider
from dialer.providers.xoxzo import DinOffer
from dialer.runtime import Runtime
from dialer.security import din_token, verify_din_token

__all__ = ["action_router", "provider_failure", "router"]

router = APIRouter(prefix="/v1/dins", tags=["dins"])
action_router = APIRouter(prefix="/v1/din", tags=["dins"], include_in_schema=False)


DinUid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]


def provider_failure(exc: provider.ProviderError) -> DialerError:
    """A provider's refusal as an answer to our own client."""
    if isinstance(exc, provider.NotFound):
        return NotFound(f"Xoxzo: {exc.message}")
    if isinstance(exc, provider.Rejected):
        # The request's values, refused by the provider: a 422 in the same shape as ours.
        return FieldError("", f"Xoxzo: {exc.message}")
    if isinstance(exc, provider.InsufficientCredit):
        return PaymentRequired(f"Xoxzo: {exc.message}")
    if isinstance(exc, provider.NotSent):
        headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
        return Unavailable(
            f"Xoxzo: {exc.kind}: {exc.message}",
            headers=headers,
        )
    return ProviderFailed(f"Xoxzo: {exc.kind}: {exc.message}")


def action_url(runtime: Runtime, din_uid: str) -> str:
    token = din_token(runtime.settings.secret_key.get_secret_value(), din_uid)
    return f"{runtime.settings.public_url.rstrip('/')}/v1/din/action/{din_uid}/{token}"


@router.get("/available", response_model=list[DinOffer])
async def available(
    runtime: RuntimeDep,
    _key: ApiKeyDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    prefix: Annotated[str | None, Query(pattern=r"^[0-9]{1,10}$")] = None,
) -> list[DinOffer]:
    try:
        return await runtime.xoxzo.search_dins(country=country, prefix=prefix)
    except provider.ProviderError as exc:
        raise provider_failure(exc) from exc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DinPublic)
async def subscribe(body: DinSubscribe, runtime: RuntimeDep, _key: ApiKeyDep) -> DinPublic:
    url = action_url(runtime, body.din_uid)
    try:
        offer = await service.subscribe_at_xoxzo(runtime.xoxzo, body.din_uid, url)
    except provider.ProviderError as exc:
        raise provider_failure(exc) from exc
    async with session_scope(runtime.sessions) as session:
        return DinPublic.of(await service.record_din(session, offer, body.parsed()))


@router.get("", response_model=list[DinPublic])
async def list_dins(session: ReadSessionDep, _key: ApiKeyDep) -> list[DinPublic]:
    return [DinPublic.of(d) for d in await service.active_dins(session)]


@router.put("/{din_uid}/action", response_model=DinPublic)
async def set_action(
    din_uid: DinUid, body: ActionBody, session: SessionDep, _key: ApiKeyDep
) -> DinPublic:
    din = await service.set_din_action(session, din_uid, body.parsed())
    if din is None:
        raise NotFound(f"no subscribed DIN {din_uid}")
    return DinPublic.of(din)


@router.delete("/{din_uid}", response_model=DinPublic)
async def unsubscribe(din_uid: DinUid, runtime: RuntimeDep, _key: ApiKeyDep) -> DinPublic:
    async with read_scope(runtime.sessions) as session:
        known = await service.find_din(session, din_uid)
    if known is None:
        raise NotFound(f"no subscribed DIN {din_uid}")
    try:
        await runtime.xoxzo.unsubscribe_din(din_uid)
    except provider.ProviderError as exc:
        raise provider_failure(exc) from exc
    async with session_scope(runtime.sessions) as session:
        din = await service.record_unsubscribed(session, din_uid)
    if din is None:
        raise NotFound(f"no subscribed DIN {din_uid}")
    return DinPublic.of(din)


@action_router.get("/action/{din_uid}/{token}", response_class=PlainTextResponse)
async def inbound_call(
    din_uid: str,
    token: str,
    runtime: RuntimeDep,
    session: SessionDep,
    caller: Annotated[str, Query(max_length=32)] = "",
    recipient: Annotated[str, Query(max_length=32)] = "",
) -> str:
    """Xoxzo's GET when someone calls a DIN: one line of plain text says what to do."""
    if not verify_din_token(runtime.settings.secret_key.get_secret_value(), din_uid, token):
        raise Forbidden("bad action token")
    din = await service.find_din(session, din_uid)
    if din is None:
        raise NotFound(f"no subscribed DIN {din_uid}")
    return await service.answer_inbound_call(
        session,
        din,
        caller,
        default_region=runtime.settings.default_region,
        default_action=runtime.settings.din_default_action,
    )
