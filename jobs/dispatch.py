"""Dial jobs: one per due notification, safe to run twice."""

from __future__ import annotations

from dialer.dispatch.hopper import run_hopper
from dialer.dispatch.service import dial_notification as dial
from jobs.context import JobContext

__all__ = ["dial_notification", "hopper_tick"]


async def dial_notification(ctx: JobContext, notification_id: int) -> str:
    return await dial(ctx["runtime"], notification_id)


async def hopper_tick(ctx: JobContext) -> dict[str, int]:
    return await run_hopper(ctx["runtime"])
