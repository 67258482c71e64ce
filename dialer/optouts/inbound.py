"""Texts people send back: STOP and its kin put the sender on the global do-not-contact list,
START takes them off. Each message is recorded once, with its own time, and a message older
than the number's latest change (they can arrive out of order) changes nothing."""

from __future__ import annotations

import unicodedata
from typing import Literal

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import OptOutEvent, utcnow
from dialer.optouts.service import (
    block_number,
    is_blocked,
    last_change_at,
    record_event,
    unblock_number,
)
from dialer.phone import InvalidNumber, to_e164
from dialer.providers.base import InboundMessage

__all__ = ["SOURCE", "answer_inbound_message", "keyword"]

SOURCE = "sms"
_STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "停止", "配信停止"})
_START = frozenset({"START", "UNSTOP"})
# Said around the word, not part of it: "Stop.", "停止。" (full-width forms are folded first).
_AROUND = " \t\r\n.,!?。、「」\"'"


def keyword(text: str) -> Literal["stop", "start"] | None:
    """What a whole message asks for: full-width letters and case do not matter; a keyword
    inside a longer sentence is not one ("please don't stop")."""
    word = unicodedata.normalize("NFKC", text).strip(_AROUND).upper()
    if word in _STOP:
        return "stop"
    if word in _START:
        return "start"
    return None


async def answer_inbound_message(
    session: AsyncSession, message: InboundMessage, default_region: str
) -> str:
    """Apply one inbound message to the list; what happened, for the log."""
    asked = keyword(message.text)
    if asked is None:
        return "no keyword"
    try:
        number = to_e164(message.sender, default_region)
    except InvalidNumber:
        return "sender is not a phone number"
    seen = await session.exec(
        select(OptOutEvent.id).where(
            OptOutEvent.source == SOURCE, OptOutEvent.reference == message.provider_id
        )
    )
    if seen.first() is not None:
        return "already recorded"
    at = message.received_at or utcnow()
    reason = f"texted {message.text.strip()[:40]!r} to {message.recipient}"
    latest = await last_change_at(session, number)
    if latest is not None and at < latest:
        record_event(
            session,
            number,
            "unchanged",
            source=SOURCE,
            reason=f"{reason}; a later change stands",
            reference=message.provider_id,
            happened_at=at,
        )
        return "older than the latest change"
    if asked == "stop":
        if not await is_blocked(session, number):
            await block_number(
                session,
                number,
                source=SOURCE,
                reason=reason,
                reference=message.provider_id,
                happened_at=at,
            )
            return "added"
    elif await unblock_number(
        session,
        number,
        source=SOURCE,
        reason=reason,
        reference=message.provider_id,
        happened_at=at,
    ):
        return "removed"
    record_event(
        session,
        number,
        "unchanged",
        source=SOURCE,
        reason=reason,
        reference=message.provider_id,
        happened_at=at,
    )
    return "unchanged"
