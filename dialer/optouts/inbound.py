"""Texts people send back: STOP and its kin put the sender on the global do-not-contact list,
START takes them off. Each message is recorded once, with its own time (never much later than
we received it). A START older than the number's latest change (texts arrive out of order)
changes nothing; a STOP always counts, whenever it was sent."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
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
from dialer.vocabulary import OptOutChange

__all__ = ["CLOCK_SKEW", "SOURCE", "answer_inbound_message", "keyword", "message_time"]

SOURCE = "sms"
_STOP = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "停止", "配信停止"})
_START = frozenset({"START", "UNSTOP"})
# Said around the word, not part of it: "Stop.", "停止。" (full-width forms are folded first).
_AROUND = " \t\r\n.,!?。、「」\"'"


# How far a provider's clock may run ahead of ours. A message dated later than that (a wrong
# clock, or a forged callback) counts as sent at our receipt plus this, so that one message
# cannot outrank every change that follows it for years.
CLOCK_SKEW = timedelta(minutes=5)


def message_time(provider_time: datetime | None, received: datetime) -> datetime:
    """When a message counts as sent, for ordering it against other changes."""
    if provider_time is None:
        return received
    return min(provider_time, received + CLOCK_SKEW)


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
    at = message_time(message.received_at, utcnow())
    reason = f"texted {message.text.strip()[:40]!r} to {message.recipient[:32]}"
    latest = await last_change_at(session, number)
    # A STOP stands whenever it comes: only a START can be outranked by a later change.
    if asked == "start" and latest is not None and at < latest:
        record_event(
            session,
            number,
            OptOutChange.unchanged,
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
        OptOutChange.unchanged,
        source=SOURCE,
        reason=reason,
        reference=message.provider_id,
        happened_at=at,
    )
    return "unchanged"
