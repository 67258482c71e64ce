"""Costs billed after the end: a Voxology call's or message's charge appears in its log some
time after it ended, and no callback carries it. Each such attempt is asked again (under the
provider's status limit) until the charge is there, for a day at most."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import col, select

from dialer.db import read_scope, session_scope
from dialer.models import Attempt, Notification, channel_of, utcnow
from dialer.pacing.service import Ticket, account_limit, take_slot
from dialer.providers.base import ProviderError
from dialer.runtime import Runtime
from dialer.tracking.checks import read_status

__all__ = ["COST_GIVE_UP", "collect_costs"]

log = logging.getLogger(__name__)

COST_GIVE_UP = timedelta(days=1)
_BATCH = 50


def _next_look(age: timedelta) -> timedelta:
    """Half the time since the end, between 30 s and an hour."""
    return min(max(age / 2, timedelta(seconds=30)), timedelta(hours=1))


async def collect_costs(runtime: Runtime) -> dict[str, int]:
    now = utcnow()
    async with read_scope(runtime.sessions) as session:
        due = (
            await session.exec(
                select(Attempt, Notification)
                .join(Notification, col(Notification.id) == col(Attempt.notification_id))
                .where(col(Attempt.cost_due_at).is_not(None), col(Attempt.cost_due_at) <= now)
                .order_by(col(Attempt.cost_due_at))
                .limit(_BATCH)
            )
        ).all()
    counts = {"costed": 0, "later": 0, "given_up": 0}
    for attempt, notification in due:
        try:
            cost = await _read_cost(runtime, attempt, notification)
        except _NoSlot:
            break  # the status limit is spent for now: the next tick goes on
        counts[await _record(runtime, attempt, cost)] += 1
    return {k: v for k, v in counts.items() if v}


class _NoSlot(Exception):
    pass


async def _read_cost(
    runtime: Runtime, attempt: Attempt, notification: Notification
) -> float | None:
    provider = runtime.providers.get(attempt.provider)
    provider_id = attempt.provider_id
    if provider is None or provider_id is None:
        return None
    limit = account_limit(runtime.settings, attempt.provider, "status")
    ticket = await take_slot(runtime.limiter, [limit], runtime.settings.pacing_max_wait_s)
    if not isinstance(ticket, Ticket):
        raise _NoSlot
    is_voice = channel_of(notification, attempt).is_voice
    try:
        report = await ticket.send(
            runtime.limiter,
            limit,
            f"cost-{attempt.id}",
            lambda: read_status(provider, provider_id, attempt.conference_id, is_voice=is_voice),
        )
    except ProviderError as exc:
        log.info("attempt %s: cost not read: %s", attempt.id, exc)
        return None
    return report.cost if report is not None else None


async def _record(runtime: Runtime, found: Attempt, cost: float | None) -> str:
    async with session_scope(runtime.sessions) as session:
        attempt = await session.get(Attempt, found.id, with_for_update=True)
        if attempt is None or attempt.cost_due_at is None:
            return "later"  # another worker had it
        now = utcnow()
        ended = attempt.ended_at or attempt.updated_at
        if cost is not None:
            attempt.cost, attempt.cost_due_at = cost, None
            return "costed"
        if now - ended >= COST_GIVE_UP:
            attempt.cost_due_at = None
            log.warning("attempt %s: no cost from %s after a day", attempt.id, attempt.provider)
            return "given_up"
        attempt.cost_due_at = now + _next_look(now - ended)
        return "later"
