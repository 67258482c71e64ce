"""Webhook delivery: each tick sends the events that are due."""

from __future__ import annotations

from dialer.webhooks.delivery import deliver_due
from jobs.context import JobContext

__all__ = ["webhook_tick"]


async def webhook_tick(ctx: JobContext) -> dict[str, int]:
    return await deliver_due(ctx["runtime"])
