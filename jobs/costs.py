"""Costs billed after the end: each tick asks for the ones that are due."""

from __future__ import annotations

from dialer.tracking.costs import collect_costs
from jobs.context import JobContext

__all__ = ["cost_tick"]


async def cost_tick(ctx: JobContext) -> dict[str, int]:
    return await collect_costs(ctx["runtime"])
