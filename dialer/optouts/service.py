"""Adding, removing and checking do-not-contact numbers. Functions take a session; none commits."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import DoNotContact

__all__ = [
    "GLOBAL",
    "block_number",
    "campaign_scope",
    "is_blocked",
    "list_blocked",
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
    stmt = select(DoNotContact.id).where(
        DoNotContact.number == number, col(DoNotContact.scope).in_(scopes)
    )
    return (await session.exec(stmt)).first() is not None


async def block_number(
    session: AsyncSession,
    number: str,
    *,
    source: str,
    reason: str | None = None,
    scope: str = GLOBAL,
) -> DoNotContact:
    """Put `number` on the list; a number already there keeps its first entry."""
    existing = (
        await session.exec(
            select(DoNotContact).where(DoNotContact.scope == scope, DoNotContact.number == number)
        )
    ).first()
    if existing is not None:
        return existing
    entry = DoNotContact(scope=scope, number=number, source=source, reason=reason)
    try:
        async with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # Another request added it at the same moment; theirs stands.
        found = (
            await session.exec(
                select(DoNotContact).where(
                    DoNotContact.scope == scope, DoNotContact.number == number
                )
            )
        ).one()
        return found
    return entry


async def unblock_number(session: AsyncSession, number: str, scope: str = GLOBAL) -> bool:
    result = await session.exec(
        delete(DoNotContact).where(
            col(DoNotContact.scope) == scope, col(DoNotContact.number) == number
        )
    )
    return bool(result.rowcount)


async def list_blocked(session: AsyncSession, scope: str = GLOBAL) -> list[DoNotContact]:
    stmt = select(DoNotContact).where(DoNotContact.scope == scope).order_by(col(DoNotContact.id))
    return list((await session.exec(stmt)).all())
