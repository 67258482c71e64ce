"""Sending events: each tick takes the due ones (leased, so a second worker leaves them be),
POSTs them signed, logs every try, and schedules the next try of the ones not taken:
10 s, 20 s, 40 s … at most 10 min apart, for 24 hours. Runs in its own job: a receiver that is
slow or down delays only its own events, never a dial.

One endpoint gets its events in the order they happened, one at a time: while one waits for
its next try, the ones written after it wait behind it (so an attempt.finished always arrives
before the notification.final it caused). Different endpoints are served side by side."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from dialer import __version__
from dialer.db import session_scope
from dialer.logs import fields
from dialer.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from dialer.runtime import Runtime
from dialer.vocabulary import EventStatus
from dialer.webhooks.destinations import GuardedTransport
from dialer.webhooks.signing import EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, signature

__all__ = ["backoff_s", "deliver_due", "lease_due"]

_BATCH = 50
# Longer than a try can take: a worker that dies mid-try leaves its events to the next tick.
_LEASE = timedelta(seconds=60)
_TIMEOUT_S = 10.0

# What a receiver sees in its logs: which program calls it (a firewall may allow it by name).
USER_AGENT = f"dialer/{__version__} (webhooks)"

log = logging.getLogger(__name__)


def backoff_s(tries: int) -> float:
    """How long after its `tries`-th failed try an event is sent again."""
    return float(min(10 * 2 ** (tries - 1), 600))


@dataclass(frozen=True)
class _Due:
    event_id: int
    url: str
    secret: str
    kind: str
    body: str


@dataclass(frozen=True)
class _Answer:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def taken(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _send(client: httpx.AsyncClient, due: _Due) -> _Answer:
    body = due.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: due.kind,
        EVENT_ID_HEADER: str(due.event_id),
        SIGNATURE_HEADER: signature(due.secret, int(time.time()), body),
    }
    started = time.monotonic()
    try:
        answer = await client.post(due.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        took = int((time.monotonic() - started) * 1000)
        return _Answer(None, f"{type(exc).__name__}: {exc}"[:500], took)
    took = int((time.monotonic() - started) * 1000)
    error = None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    return _Answer(answer.status_code, error, took)


async def _send_in_order(
    client: httpx.AsyncClient, events: list[_Due], answers: dict[int, _Answer]
) -> None:
    """One endpoint's events, one after the other, until one is not taken."""
    for item in events:
        answers[item.event_id] = answer = await _send(client, item)
        if not answer.taken:
            return


async def deliver_due(runtime: Runtime, now: datetime | None = None) -> dict[str, int]:
    """One round: the events due by `now`, sent; counts of those taken, to retry, given up."""
    now = now or utcnow()
    async with session_scope(runtime.sessions) as session:
        due = await lease_due(session, now)
    if not due:
        return {}
    guarded = None if runtime.settings.webhook_allow_private else GuardedTransport()
    async with httpx.AsyncClient(timeout=_TIMEOUT_S, transport=guarded) as client:
        answers: dict[int, _Answer] = {}
        by_endpoint: dict[str, list[_Due]] = {}
        for item in due:
            by_endpoint.setdefault(item.url, []).append(item)
        await asyncio.gather(*(_send_in_order(client, e, answers) for e in by_endpoint.values()))
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    async with session_scope(runtime.sessions) as session:
        for item in due:
            found = await session.get(WebhookEvent, item.event_id)
            assert found is not None
            event = found
            answer = answers.get(item.event_id)
            if answer is None:  # behind one that failed: waits for it, untried
                event.next_try_at = now
                continue
            session.add(
                WebhookDelivery(
                    event_id=item.event_id,
                    at=now,
                    status_code=answer.status_code,
                    error=answer.error,
                    duration_ms=answer.duration_ms,
                )
            )
            event.tries += 1
            if not answer.taken:
                _log_miss(item, answer, event.tries)
            if answer.taken:
                event.status, event.delivered_at = EventStatus.delivered, now
                counts["delivered"] += 1
            elif now + timedelta(seconds=backoff_s(event.tries)) > event.give_up_at:
                event.status = EventStatus.failed
                counts["failed"] += 1
                log.error(
                    "webhook event %s given up after %s tries",
                    item.event_id,
                    event.tries,
                    extra=fields(event_id=item.event_id, tries=event.tries, status="failed"),
                )
            else:
                event.next_try_at = now + timedelta(seconds=backoff_s(event.tries))
                counts["retry"] += 1
    return counts


async def lease_due(session: AsyncSession, now: datetime) -> list[_Due]:
    """The oldest events due by `now`, at most _BATCH, leased for this worker.

    Each endpoint is read on its own, from its first pending event up to the first one that
    waits (for its next try, or leased): so the work is a batch's, however long a backlog a
    receiver that is down has left. An endpoint whose events another worker is leasing at this
    moment (its row locked, on PostgreSQL) is left to that worker, so that nobody takes the
    events after the ones being leased and sends them first."""
    endpoints = await session.exec(
        select(WebhookEndpoint)
        .where(
            select(WebhookEvent.id)
            .where(
                col(WebhookEvent.endpoint_id) == col(WebhookEndpoint.id),
                col(WebhookEvent.status) == EventStatus.pending,
            )
            .exists()
        )
        .with_for_update(skip_locked=True)
    )
    # Few wait at any time (a down receiver's first event, those leased): read by their index.
    first_waiting = await session.exec(
        select(col(WebhookEvent.endpoint_id), func.min(col(WebhookEvent.id)))
        .where(
            col(WebhookEvent.status) == EventStatus.pending,
            col(WebhookEvent.next_try_at) > now,
        )
        .group_by(col(WebhookEvent.endpoint_id))
    )
    waiting = {endpoint_id: first for endpoint_id, first in first_waiting.all()}
    found: list[tuple[WebhookEvent, WebhookEndpoint]] = []
    for endpoint in endpoints.all():
        assert endpoint.id is not None
        events = await session.exec(_due_of(endpoint.id, waiting.get(endpoint.id)))
        found.extend((event, endpoint) for event in events.all())
    found.sort(key=lambda pair: pair[0].id or 0)
    due = []
    for event, endpoint in found[:_BATCH]:
        assert event.id is not None
        event.next_try_at = now + _LEASE
        due.append(_Due(event.id, endpoint.url, endpoint.secret, event.kind, event.body))
    return due


def _due_of(endpoint_id: int, first_waiting: int | None) -> SelectOfScalar[WebhookEvent]:
    """One endpoint's events due, in order: those before its first waiting one."""
    query = select(WebhookEvent).where(
        col(WebhookEvent.endpoint_id) == endpoint_id,
        col(WebhookEvent.status) == EventStatus.pending,
    )
    if first_waiting is not None:
        query = query.where(col(WebhookEvent.id) < first_waiting)
    return query.order_by(col(WebhookEvent.id)).limit(_BATCH)


def _log_miss(due: _Due, answer: _Answer, tries: int) -> None:
    why = f"HTTP {answer.status_code}" if answer.status_code is not None else answer.error
    log.warning(
        "webhook event %s (%s) not taken by %s: %s (try %s)",
        due.event_id,
        due.kind,
        due.url,
        why,
        tries,
        extra=fields(
            event_id=due.event_id,
            kind=due.kind,
            url=due.url,
            status_code=answer.status_code,
            error=answer.error,
            tries=tries,
        ),
    )
