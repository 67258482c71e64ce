"""Whether a web process can serve: its database answers at the migrations' head, and its Redis
answers (`/readyz`); and what only the database knows, for `/metrics`."""

from __future__ import annotations

from datetime import datetime

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.db import read_scope
from dialer.metrics import DUE, OLDEST_DUE, WEBHOOK_EVENTS
from dialer.migrations import head_revision
from dialer.models import Notification, WebhookEvent
from dialer.runtime import Runtime
from dialer.vocabulary import EventStatus, NotificationStatus

__all__ = ["read_database_gauges", "readiness"]


async def readiness(runtime: Runtime) -> dict[str, str]:
    """ "ok", or what is wrong, for the database and for Redis."""
    checks: dict[str, str] = {}
    try:
        async with read_scope(runtime.sessions) as session:
            found = await session.exec(text("SELECT version_num FROM alembic_version"))  # type: ignore[call-overload]
            current = sorted(str(row[0]) for row in found.all())
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    else:
        head = head_revision()
        at = ", ".join(current) or "no revision"
        checks["database"] = (
            "ok" if current == [head] else f"at {at}, not {head}: run `dialer db upgrade`"
        )
    try:
        await runtime.redis.ping()
        checks["redis"] = "ok"
    except (RedisError, OSError) as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    return checks


async def read_database_gauges(session: AsyncSession, now: datetime) -> None:
    due = await session.exec(
        select(func.count(), func.min(Notification.due_at)).where(
            col(Notification.status) == NotificationStatus.queued,
            col(Notification.due_at) <= now,
        )
    )
    count, oldest = due.one()
    DUE.set(count)
    OLDEST_DUE.set((now - oldest).total_seconds() if oldest is not None else 0.0)
    events = await session.exec(
        select(WebhookEvent.status, func.count())
        .where(col(WebhookEvent.status) != EventStatus.delivered)
        .group_by(col(WebhookEvent.status))
    )
    by_status = dict(events.all())
    for status in (EventStatus.pending, EventStatus.failed):
        WEBHOOK_EVENTS.labels(status.value).set(by_status.get(status, 0))
