"""Dial jobs: one for a notification or a batch of them, safe to run twice."""

from __future__ import annotations

from dialer.dispatch.hopper import run_hopper
from dialer.dispatch.service import dial_notification as dial
from dialer.dispatch.service import dial_notifications as dial_batch
from jobs.context import JobContext

__all__ = ["dial_notification", "dial_notifications", "hopper_tick"]


async def dial_notification(ctx: JobContext, notification_id: int) -> str:
    return await dial(ctx["runtime"], notification_id)


async def dial_notifications(ctx: JobContext, notification_ids: list[int]) -> dict[str, int]:
    return await dial_batch(ctx["runtime"], notification_ids)


async def hopper_tick(ctx: JobContext) -> dict[str, int]:
    return await run_hopper(ctx["runtime"])
