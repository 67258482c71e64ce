"""The credit watcher: pauses campaigns the balance no longer covers, resumes them later."""

from __future__ import annotations

from dialer.campaigns.credit import watch_credit
from jobs.context import JobContext

__all__ = ["credit_tick"]


async def credit_tick(ctx: JobContext) -> dict[str, int]:
    return await watch_credit(ctx["runtime"])
