"""`dialer bench schedule`: are scheduled sends dialled on time? API notifications, each with its
own `send_at`, spread evenly at RATE a second over SECONDS, dialled through the sandbox (no
provider limit) by N worker processes; for each, the time from its `send_at` to its request's
clearance to leave (its attempt's `sent_at`)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from dialer.bench.measures import quantile, utc
from dialer.bench.stack import running_stack
from dialer.config import to_driver_url
from dialer.db import make_async_engine, make_sessionmaker, make_sync_engine, session_scope
from dialer.migrations import upgrade_to_head
from dialer.notifications.schemas import NotificationCreate
from dialer.notifications.service import create_notification
from dialer.redis_embedded import EmbeddedRedis

__all__ = ["ScheduleFigures", "lateness", "run_schedule_bench"]

# No provider limit: what is measured is the engine's own lateness.
_UNLIMITED = 100_000.0
# Notifications written per transaction while the run is set up.
_PER_COMMIT = 500
# Time to set up before the first send, beyond the writing of the notifications.
_LEAD_S = 5.0
# How long after the last send_at the run waits for the stragglers.
_DRAIN_S = 30.0


@dataclass(frozen=True)
class ScheduleFigures:
    database: str
    workers: int
    rate: float
    seconds: float
    notifications: int
    # Those with no request cleared to leave by the end of the drain.
    undialled: int
    # Seconds from send_at to the clearance to leave; an undialled one counts as the whole
    # time it waited.
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float
    # Sent before their send_at (should never be): a count.
    early: int
    # Requests cleared to leave per second, from the first send_at to the last clearance.
    dialled_per_s: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lateness(
    planned: dict[int, datetime], sent: dict[int, datetime], end: datetime
) -> tuple[list[float], int, int]:
    """Each notification's lateness in seconds (to `end` if it was never sent), the count never
    sent, and the count sent early."""
    values: list[float] = []
    for notification_id, send_at in planned.items():
        when = sent.get(notification_id, end)
        values.append((when - send_at).total_seconds())
    undialled = sum(1 for i in planned if i not in sent)
    early = sum(1 for i, when in sent.items() if i in planned and when < planned[i])
    return values, undialled, early


async def _create(database_url: str, rate: float, seconds: float) -> dict[int, datetime]:
    """The notifications, as the API makes them, their send_at spread from a moment far enough
    ahead that every one is written before the first is due."""
    count = max(1, round(rate * seconds))
    first = datetime.now(UTC) + timedelta(seconds=_LEAD_S + count / 500)
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    sessions = make_sessionmaker(engine)
    planned: dict[int, datetime] = {}
    try:
        for start in range(0, count, _PER_COMMIT):
            async with session_scope(sessions) as session:
                made = []
                for i in range(start, min(count, start + _PER_COMMIT)):
                    send_at = first + timedelta(seconds=i / rate)
                    body = NotificationCreate.model_validate(
                        {
                            "channel": "tts",
                            "to": f"+8180{30_000_000 + i}",
                            "from": "+81312345678",
                            "text": "Your appointment is tomorrow at ten.",
                            "send_at": send_at.isoformat(),
                        }
                    )
                    notification, _ = await create_notification(
                        session, body, api_key_id=None, idempotency_key=None, default_region="JP"
                    )
                    made.append((notification, send_at))
            planned.update((n.id, at) for n, at in made if n.id is not None)
    finally:
        await engine.dispose()
    if datetime.now(UTC) >= first:
        raise RuntimeError("the notifications took longer to write than the lead allowed")
    return planned


def _sent(engine: sa.Engine) -> dict[int, datetime]:
    """Each notification's first clearance to leave."""
    query = sa.text(
        "SELECT notification_id, min(sent_at) FROM attempt WHERE sent_at IS NOT NULL "
        "GROUP BY notification_id"
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return {i: utc(at) for i, at in rows}


def run_schedule_bench(
    rate: float, seconds: float, workers: int, database_url: str | None
) -> ScheduleFigures:
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as workdir, EmbeddedRedis() as redis:
        url = database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        upgrade_to_head(url)
        engine = make_sync_engine(url)
        try:
            with running_stack(url, redis.url, Path(workdir), _UNLIMITED) as stack:
                stack.start_sandbox(_UNLIMITED, balance=1e12)
                stack.start_web()
                stack.start_workers(workers)
                planned = asyncio.run(_create(url, rate, seconds))
                last = max(planned.values())
                deadline = time.monotonic() + (last - datetime.now(UTC)).total_seconds()
                deadline += _DRAIN_S
                sent = _sent(engine)
                while len(sent) < len(planned) and time.monotonic() < deadline:
                    time.sleep(1.0)
                    sent = _sent(engine)
                end = datetime.now(UTC)
            database = engine.dialect.name
        finally:
            engine.dispose()
    values, undialled, early = lateness(planned, sent, end)
    first = min(planned.values())
    span = (max(sent.values(), default=first) - first).total_seconds()
    return ScheduleFigures(
        database=database,
        workers=workers,
        rate=rate,
        seconds=seconds,
        notifications=len(planned),
        undialled=undialled,
        lateness_p50_s=round(quantile(values, 0.5), 3),
        lateness_p99_s=round(quantile(values, 0.99), 3),
        lateness_max_s=round(max(values), 3),
        early=early,
        dialled_per_s=round(len(sent) / span, 1) if span > 0 else 0.0,
    )
