"""Subscribing DINs and answering the calls they receive. Functions take a session; none commits."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.din.actions import DinAction, Playback, Say, parse_action
from dialer.models import Din, Notification, utcnow
from dialer.phone import InvalidNumber, to_e164
from dialer.providers.base import NotFound
from dialer.providers.xoxzo import DinOffer, XoxzoProvider
from dialer.scripts.schemas import Script
from dialer.vocabulary import Channel

__all__ = [
    "active_dins",
    "answer_inbound_call",
    "find_din",
    "inbound_action",
    "record_din",
    "record_unsubscribed",
    "replay_action",
    "set_din_action",
    "subscribe_at_xoxzo",
]


async def find_din(session: AsyncSession, din_uid: str) -> Din | None:
    din = (await session.exec(select(Din).where(Din.din_uid == din_uid))).first()
    return din if din is not None and din.unsubscribed_at is None else None


async def active_dins(session: AsyncSession) -> list[Din]:
    stmt = select(Din).where(col(Din.unsubscribed_at).is_(None)).order_by(col(Din.id))
    return list((await session.exec(stmt)).all())


async def subscribe_at_xoxzo(xoxzo: XoxzoProvider, din_uid: str, action_url: str) -> DinOffer:
    """Subscribe at Xoxzo and point the DIN at our action server (no transaction is open: the
    provider's time is never spent holding a database lock)."""
    await xoxzo.subscribe_din(din_uid)
    await xoxzo.set_din_action_url(din_uid, action_url)
    offer = next((d for d in await xoxzo.din_subscriptions() if d.din_uid == din_uid), None)
    if offer is None:
        raise NotFound(f"{din_uid} is not among the subscriptions after subscribing")
    return offer


async def record_din(session: AsyncSession, offer: DinOffer, action: DinAction | None) -> Din:
    """A DIN subscribed at Xoxzo, kept in SQL."""
    din_uid = offer.din_uid
    din = (await session.exec(select(Din).where(Din.din_uid == din_uid))).first()
    if din is None:
        din = Din(din_uid=din_uid, number=offer.number)
        session.add(din)
    din.number = offer.number
    din.monthly_cost = offer.monthly_cost
    din.action = action.line() if action else None
    din.subscribed_at = utcnow()
    din.unsubscribed_at = None
    await session.flush()
    return din


async def set_din_action(
    session: AsyncSession, din_uid: str, action: DinAction | None
) -> Din | None:
    din = await find_din(session, din_uid)
    if din is not None:
        din.action = action.line() if action else None
    return din


async def record_unsubscribed(session: AsyncSession, din_uid: str) -> Din | None:
    """Unsubscribed at Xoxzo (dialer.din.api asks it first, outside any transaction)."""
    din = await find_din(session, din_uid)
    if din is not None:
        din.unsubscribed_at = utcnow()
    return din


def replay_action(notification: Notification) -> DinAction | None:
    """The message of a voice notification as an action, to play it again to its person: a
    script's first step if it speaks."""
    if notification.script is not None:
        try:
            script = Script.model_validate(notification.script)
        except ValueError:
            return None
        first = script.steps[script.start]
        if first.play is not None:
            return Playback(str(first.play))
        if first.say is not None:
            return Say(first.lang or script.lang or notification.lang or "ja", first.say)
        return None
    if notification.recording_url and notification.channel is not Channel.sms:
        return Playback(notification.recording_url)
    if notification.channel in (Channel.tts, Channel.voice_flow) and notification.text:
        return Say(notification.lang or "ja", notification.text)
    return None


async def inbound_action(
    session: AsyncSession,
    our_number: str,
    caller: str | None,
    own_action: str | None,
    default_action: str,
) -> DinAction:
    """What someone calling `our_number` hears: the last message we called them with from
    it, else the number's own action, else the service default. `caller` in E.164, if known."""
    if caller is not None:
        stmt = (
            select(Notification)
            .where(
                Notification.from_number == our_number,
                Notification.to_number == caller,
                col(Notification.channel).in_([Channel.tts, Channel.playback, Channel.voice_flow]),
                Notification.attempts_made > 0,
            )
            .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
            .limit(1)
        )
        last = (await session.exec(stmt)).first()
        replay = replay_action(last) if last is not None else None
        if replay is not None:
            return replay
    return parse_action(own_action or default_action)


async def answer_inbound_call(
    session: AsyncSession, din: Din, caller: str, *, default_region: str, default_action: str
) -> str:
    """The action line for `caller` calling `din` (dialer.din.service.inbound_action)."""
    # Xoxzo sends "caller=+8180..." unescaped, so the query string delivers " 8180...".
    raw = caller.strip()
    try:
        number = to_e164(f"+{raw}" if raw.isdigit() else raw, default_region)
    except InvalidNumber:
        number = None
    action = await inbound_action(session, din.number, number, din.action, default_action)
    return action.line()
