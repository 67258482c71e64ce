"""Adding, removing and checking do-not-contact numbers. Functions take a session; none commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import Campaign, DoNotContact, OptOutEvent, utcnow
from dialer.phone import ascii_e164
from dialer.vocabulary import OptOutChange

__all__ = [
    "GLOBAL",
    "block_number",
    "blocked_among",
    "campaign_region",
    "campaign_scope",
    "entries_for",
    "history",
    "is_blocked",
    "last_change_at",
    "list_blocked",
    "recent_blocked",
    "record_event",
    "scopes_for",
    "unblock_number",
]

GLOBAL = "global"


def campaign_scope(campaign_id: int) -> str:
    """The scope of one campaign's own do-not-contact list."""
    return f"campaign:{campaign_id}"


def scopes_for(campaign_id: int | None) -> tuple[str, ...]:
    """The lists that keep a number from being dialled: the global one, and its campaign's."""
    return (GLOBAL,) if campaign_id is None else (GLOBAL, campaign_scope(campaign_id))


async def is_blocked(
    session: AsyncSession, number: str, scopes: tuple[str, ...] = (GLOBAL,)
) -> bool:
    return await blocked_among(session, [(number, scopes)]) != set()


async def blocked_among(
    session: AsyncSession, wanted: list[tuple[str, tuple[str, ...]]]
) -> set[tuple[str, tuple[str, ...]]]:
    """Which of these (number, lists) pairs are blocked: the number is on one of its lists.
    One query for them all, however many."""
    if not wanted:
        return set()
    # Both spellings of a number stored with another script's digits before they were folded.
    spellings = {number: {number, ascii_e164(number)} for number, _ in wanted}
    stmt = select(DoNotContact.number, DoNotContact.scope).where(
        col(DoNotContact.number).in_(set().union(*spellings.values())),
        col(DoNotContact.scope).in_({scope for _, scopes in wanted for scope in scopes}),
    )
    found = {(number, scope) for number, scope in (await session.exec(stmt)).all()}
    return {
        (number, scopes)
        for number, scopes in wanted
        if any((spelled, scope) in found for spelled in spellings[number] for scope in scopes)
    }


async def block_number(
    session: AsyncSession,
    number: str,
    *,
    source: str,
    reason: str | None = None,
    scope: str = GLOBAL,
    reference: str | None = None,
    happened_at: datetime | None = None,
) -> DoNotContact:
    """Put `number` on the list; a number already there keeps its first entry. A new entry is
    recorded as an event with its source."""
    existing = await _entry(session, number, scope)
    if existing is not None:
        return existing
    entry = DoNotContact(scope=scope, number=number, source=source, reason=reason)
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # Another request added it at the same moment; theirs stands.
        found = await _entry(session, number, scope)
        assert found is not None
        return found
    record_event(
        session,
        number,
        OptOutChange.added,
        source=source,
        reason=reason,
        scope=scope,
        reference=reference,
        happened_at=happened_at,
    )
    return entry


async def unblock_number(
    session: AsyncSession,
    number: str,
    scope: str = GLOBAL,
    *,
    source: str = "api",
    reason: str | None = None,
    reference: str | None = None,
    happened_at: datetime | None = None,
) -> bool:
    result = await session.exec(
        delete(DoNotContact).where(
            col(DoNotContact.scope) == scope, col(DoNotContact.number) == number
        )
    )
    removed = bool(result.rowcount)
    if removed:
        record_event(
            session,
            number,
            OptOutChange.removed,
            source=source,
            reason=reason,
            scope=scope,
            reference=reference,
            happened_at=happened_at,
        )
    return removed


def record_event(
    session: AsyncSession,
    number: str,
    change: OptOutChange,
    *,
    source: str,
    reason: str | None = None,
    scope: str = GLOBAL,
    reference: str | None = None,
    happened_at: datetime | None = None,
) -> None:
    now = utcnow()
    session.add(
        OptOutEvent(
            scope=scope,
            number=number,
            change=change,
            source=source,
            reason=reason,
            reference=reference,
            happened_at=happened_at or now,
            recorded_at=now,
        )
    )


async def last_change_at(
    session: AsyncSession, number: str, scope: str = GLOBAL
) -> datetime | None:
    """When the latest change to `number` on this list was asked for."""
    stmt = select(func.max(OptOutEvent.happened_at)).where(
        OptOutEvent.number == number,
        OptOutEvent.scope == scope,
        col(OptOutEvent.change) != OptOutChange.unchanged,
    )
    return (await session.exec(stmt)).one()


async def history(session: AsyncSession, number: str) -> list[OptOutEvent]:
    stmt = (
        select(OptOutEvent)
        .where(OptOutEvent.number == number)
        .order_by(col(OptOutEvent.happened_at), col(OptOutEvent.id))
    )
    return list((await session.exec(stmt)).all())


async def _entry(session: AsyncSession, number: str, scope: str) -> DoNotContact | None:
    stmt = select(DoNotContact).where(DoNotContact.scope == scope, DoNotContact.number == number)
    return (await session.exec(stmt)).first()


async def list_blocked(session: AsyncSession, scope: str = GLOBAL) -> list[DoNotContact]:
    stmt = select(DoNotContact).where(DoNotContact.scope == scope).order_by(col(DoNotContact.id))
    return list((await session.exec(stmt)).all())


async def recent_blocked(
    session: AsyncSession, before: int | None, limit: int, scope: str = GLOBAL
) -> list[DoNotContact]:
    """The latest entries first, a page at a time (`before`: the last id seen)."""
    stmt = select(DoNotContact).where(DoNotContact.scope == scope)
    if before is not None:
        stmt = stmt.where(col(DoNotContact.id) < before)
    return list((await session.exec(stmt.order_by(col(DoNotContact.id).desc()).limit(limit))).all())


async def entries_for(session: AsyncSession, number: str) -> list[DoNotContact]:
    """The lists `number` is on: the global one, campaigns' own."""
    spellings = {number, ascii_e164(number)}
    stmt = select(DoNotContact).where(col(DoNotContact.number).in_(spellings))
    return list((await session.exec(stmt.order_by(col(DoNotContact.id)))).all())


async def campaign_region(session: AsyncSession, campaign_id: int) -> str | None:
    """The region the campaign's numbers are read in; None for no such campaign."""
    campaign = await session.get(Campaign, campaign_id)
    return None if campaign is None else campaign.default_region
