"""The limits a dial is under, its slot under them, and the account's live-call cap."""

from __future__ import annotations

import hashlib

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.config import Settings
from dialer.db import read_scope
from dialer.models import Attempt, Campaign, Notification, utcnow
from dialer.pacing.limiter import Limit
from dialer.pacing.service import Ticket, kind_of, take_slot, take_slots
from dialer.runtime import Runtime
from dialer.vocabulary import OPEN_ATTEMPT, Channel, NotificationStatus

__all__ = ["account_at_live_cap", "load_due", "slot_for", "slots_for"]


async def load_due(
    runtime: Runtime, notification_ids: list[int]
) -> list[tuple[Notification, Campaign | None]]:
    """Those of the notifications that are queued and due, each with its campaign, read in one
    go without a lock (the claim checks again under one)."""
    async with read_scope(runtime.sessions) as session:
        found = await session.exec(
            select(Notification).where(col(Notification.id).in_(notification_ids))
        )
        now = utcnow()
        due = [n for n in found.all() if n.status is NotificationStatus.queued and n.due_at <= now]
        campaign_ids = {n.campaign_id for n in due if n.campaign_id is not None}
        campaigns = (
            {
                c.id: c
                for c in (
                    await session.exec(select(Campaign).where(col(Campaign.id).in_(campaign_ids)))
                ).all()
            }
            if campaign_ids
            else {}
        )
    order = {i: k for k, i in enumerate(notification_ids)}
    due.sort(key=lambda n: order.get(n.id or 0, 0))
    return [(n, campaigns.get(n.campaign_id) if n.campaign_id else None) for n in due]


async def slot_for(runtime: Runtime, limits: list[Limit], *, must: bool = False) -> Ticket | float:
    """A ticket within the configured wait, or how long until one; `must`: the attempt is
    already committed, so wait for one."""
    return await take_slot(runtime.limiter, limits, runtime.settings.pacing_max_wait_s, must=must)


async def slots_for(runtime: Runtime, limits: list[Limit], count: int) -> list[Ticket]:
    """Tickets for up to `count` requests under the same limits, one call to the limiter: those
    whose slot begins within the configured wait, in order (none if even the first is later)."""
    found = await take_slots(runtime.limiter, limits, runtime.settings.pacing_max_wait_s, count)
    return [] if isinstance(found, float) else found


async def account_at_live_cap(
    session: AsyncSession, settings: Settings, notification: Notification
) -> bool:
    """Whether the provider account has as many calls live as it allows, if it sets a number.
    A call counts from its claim until its final status; the count is read from SQL, the
    truth, so it survives a Redis flush and a worker's death alike."""
    cap = settings.limits_for(notification.provider).live_calls
    kind = kind_of(notification.channel, on_fallback=notification.on_fallback)
    if cap is None or kind != "calls":
        return False
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Claims of one account count and open attempts one after another, or two could each
        # see one place left. SQLite's single writer does the same by itself.
        key = int.from_bytes(hashlib.sha256(notification.provider.encode()).digest()[:8], "big")
        await session.exec(select(func.pg_advisory_xact_lock(key - 2**63)))
    live = await session.exec(
        select(func.count())
        .select_from(Attempt)
        .join(Notification, col(Notification.id) == col(Attempt.notification_id))
        .where(
            col(Attempt.provider) == notification.provider,
            col(Attempt.status).in_(OPEN_ATTEMPT),
            col(Attempt.channel).is_(None),
            col(Notification.channel) != Channel.sms,
        )
    )
    return int(live.one()) >= cap
