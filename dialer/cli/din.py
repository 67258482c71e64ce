"""`dialer din ...`: Xoxzo Dial In Numbers, searched, subscribed, routed and given back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from dialer.cli.shared import in_session, load_settings, upgrade_if_embedded
from dialer.config import Settings
from dialer.terminal import printable

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from dialer.din.actions import DinAction
    from dialer.models import Din
    from dialer.providers.xoxzo import DinOffer, XoxzoProvider

T = TypeVar("T")

__all__ = ["din"]


@click.group()
def din() -> None:
    """Xoxzo Dial In Numbers: the numbers people call back on."""


async def _with_xoxzo(
    settings: Settings, work: Callable[[AsyncSession, XoxzoProvider], Awaitable[T]]
) -> T:
    import httpx

    from dialer.providers.xoxzo import XoxzoProvider

    async with httpx.AsyncClient(timeout=settings.provider_timeout_s) as client:
        xoxzo = XoxzoProvider(
            client,
            sid=settings.xoxzo_sid,
            auth_token=settings.xoxzo_auth_token.get_secret_value(),
            base_url=settings.xoxzo_api_url,
        )
        return await in_session(settings, lambda session: work(session, xoxzo))


def _run_provider(coroutine: Awaitable[T]) -> T:
    from dialer.providers.base import ProviderError

    async def run() -> T:
        return await coroutine

    try:
        return asyncio.run(run())
    except ProviderError as exc:
        raise click.ClickException(f"Xoxzo: {exc.kind}: {exc.message}") from exc


def _action(text: str | None) -> DinAction | None:
    from dialer.din.actions import InvalidAction, parse_action

    if text is None:
        return None
    try:
        return parse_action(text)
    except InvalidAction as exc:
        raise click.BadParameter(str(exc), param_hint="--action") from exc


def _din_line(d: Din) -> str:
    return printable(f"{d.din_uid}  {d.number}  {d.action or '(default action)'}", 300)


@din.command("search")
@click.option("--country", help="Two letters, e.g. JP.")
@click.option("--prefix", help="Digits the number starts with, country code included: 813.")
def din_search(country: str | None, prefix: str | None) -> None:
    """DINs available to subscribe."""
    settings = load_settings()

    async def search(_session: AsyncSession, xoxzo: XoxzoProvider) -> list[DinOffer]:
        return await xoxzo.search_dins(country=country, prefix=prefix)

    for offer in _run_provider(_with_xoxzo(settings, search)):
        click.echo(
            f"{offer.din_uid}  {offer.number}  {offer.monthly_cost or 0:g}/month  "
            f"{offer.minute_cost or 0:g}/minute"
        )


@din.command("subscribe")
@click.argument("din_uid")
@click.option("--action", help='What callers hear by default, e.g. say en "Hello".')
def din_subscribe(din_uid: str, action: str | None) -> None:
    """Subscribe to DIN_UID and point it at this service's action server."""
    from dialer.din.service import record_din, subscribe_at_xoxzo
    from dialer.security import din_token

    settings = load_settings()
    parsed = _action(action)
    upgrade_if_embedded(settings)
    token = din_token(settings.secret_key.get_secret_value(), din_uid)
    url = f"{settings.public_url.rstrip('/')}/v1/din/action/{din_uid}/{token}"

    async def subscribe(session: AsyncSession, xoxzo: XoxzoProvider) -> str:
        # Xoxzo first: no SQL has begun, so no lock is held while it answers.
        offer = await subscribe_at_xoxzo(xoxzo, din_uid, url)
        return _din_line(await record_din(session, offer, parsed))

    click.echo(_run_provider(_with_xoxzo(settings, subscribe)))


@din.command("action")
@click.argument("din_uid")
@click.argument("action", required=False)
def din_action(din_uid: str, action: str | None) -> None:
    """Set what callers to DIN_UID hear by default; no ACTION: the service default."""
    from dialer.din.service import set_din_action

    parsed = _action(action)

    async def update(session: AsyncSession) -> str | None:
        found = await set_din_action(session, din_uid, parsed)
        return None if found is None else _din_line(found)

    line = asyncio.run(in_session(load_settings(), update))
    if line is None:
        raise click.ClickException(f"no subscribed DIN {din_uid}")
    click.echo(line)


@din.command("list")
def din_list() -> None:
    """The DINs this service subscribes to."""
    from dialer.din.service import active_dins

    async def listed(session: AsyncSession) -> list[str]:
        return [_din_line(d) for d in await active_dins(session)]

    for line in asyncio.run(in_session(load_settings(), listed)):
        click.echo(line)


@din.command("unsubscribe")
@click.argument("din_uid")
def din_unsubscribe(din_uid: str) -> None:
    """Cancel the subscription to DIN_UID."""
    from dialer.din.service import find_din, record_unsubscribed

    settings = load_settings()

    async def known(session: AsyncSession) -> bool:
        return await find_din(session, din_uid) is not None

    async def cancel(session: AsyncSession, xoxzo: XoxzoProvider) -> bool:
        await xoxzo.unsubscribe_din(din_uid)  # before any SQL of this session
        return await record_unsubscribed(session, din_uid) is not None

    if not asyncio.run(in_session(settings, known)) or not _run_provider(
        _with_xoxzo(settings, cancel)
    ):
        raise click.ClickException(f"no subscribed DIN {din_uid}")
    click.echo(f"unsubscribed {din_uid}")
