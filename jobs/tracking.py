"""Status-check jobs: the polling fallback for attempts whose callback has not come."""

from __future__ import annotations

from dialer.tracking.checks import check_attempt as check
from jobs.context import JobContext

__all__ = ["check_attempt"]


async def check_attempt(ctx: JobContext, attempt_id: int) -> str:
    return await check(ctx["runtime"], attempt_id)
