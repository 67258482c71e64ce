"""A campaign through real processes (web, three workers, the sandbox) on a clock the test moves:
contacts in three time zones are each dialled only inside their own window, pause holds back
everything not yet dialled, cancel leaves nothing to dial, and nobody is dialled more often than
the policy allows. DIALER_E2E_CONTACTS sets the size (the acceptance run uses 10,000)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from dialer.config import to_driver_url
from dialer.db import make_async_engine, make_sessionmaker, read_scope
from dialer.models import Attempt, Notification
from tests.stack import Stack
from tests.support import SQLITE_ONLY, wait_for

CONTACTS = int(os.environ.get("DIALER_E2E_CONTACTS", "300"))
ZONES = ("Asia/Tokyo", "Europe/London", "America/New_York")
# Monday 2026-11-30 00:30 UTC: 09:30 in Tokyo; 00:30 in London; Sunday 19:30 in New York.
MONDAY = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
POLICY = {"max_attempts": 2, "retry": {"no_answer": {"delay_s": 1}}}
FINAL = {"delivered", "failed", "canceled", "expired", "suppressed"}


def _csv(count: int) -> bytes:
    lines = ["phone,name,timezone"]
    for i in range(count):
        lines.append(f"+8190{10_000_000 + i:08d},Person {i},{ZONES[i % 3]}")
    return ("\n".join(lines) + "\n").encode()


async def _campaign(stack: Stack, count: int) -> int:
    body = {
        "name": f"e2e {count}",
        "channel": "tts",
        "from": "+81312345678",
        "template": "Hello {{ name }}.",
        "lang": "en",
        "schedule": {"weekdays": [0, 1, 2, 3, 4]},
        "policy": POLICY,
    }
    created = await stack.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    upload = await stack.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", _csv(count), "text/csv")}
    )
    assert upload.status_code == 201 and upload.json()["imported"] == count, upload.text
    return cid


async def _counts(stack: Stack, cid: int) -> dict[str, Any]:
    body: dict[str, Any] = (await stack.api.get(f"/v1/campaigns/{cid}")).json()
    return body


class Watch:
    """Reads the campaign's rows the way an operator's dashboard would: without a write lock."""

    def __init__(self, database_url: str, cid: int) -> None:
        self.engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
        self.sessions = make_sessionmaker(self.engine)
        self.cid = cid

    async def final_per_zone(self) -> Counter[str]:
        async with read_scope(self.sessions) as session:
            rows = await session.exec(
                select(Notification.timezone, func.count())
                .where(
                    col(Notification.campaign_id) == self.cid,
                    col(Notification.status).in_(FINAL),
                )
                .group_by(col(Notification.timezone))
            )
            return Counter({zone or "": count for zone, count in rows.all()})

    async def attempts(self) -> list[tuple[str, datetime]]:
        """Every attempt's zone and time (by the dialer's clock)."""
        async with read_scope(self.sessions) as session:
            rows = await session.exec(
                select(Notification.timezone, Attempt.created_at)
                .join(Attempt, col(Attempt.notification_id) == col(Notification.id))
                .where(col(Notification.campaign_id) == self.cid)
            )
            return [(zone or "", created_at) for zone, created_at in rows.all()]

    async def counts(self) -> dict[str, int]:
        """The contacts counted by status, from the rows themselves."""
        async with read_scope(self.sessions) as session:
            rows = await session.exec(
                select(Notification.status, func.count())
                .where(col(Notification.campaign_id) == self.cid)
                .group_by(col(Notification.status))
            )
            return {str(status): n for status, n in rows.all()}

    async def attempt_count(self) -> int:
        async with read_scope(self.sessions) as session:
            rows = await session.exec(
                select(func.count())
                .select_from(Attempt)
                .join(Notification, col(Attempt.notification_id) == col(Notification.id))
                .where(col(Notification.campaign_id) == self.cid)
            )
            return rows.one()


@pytest.mark.timeout(1800)
@SQLITE_ONLY  # zones and windows; the hopper on PostgreSQL is in test_dispatch
async def test_a_campaign_across_three_zones_runs_paused_and_resumed(
    stack: Stack, database_url: str
) -> None:
    stack.move_clock((MONDAY - datetime.now(UTC)).total_seconds())
    # The stack's short clocks are for its kill tests; thousands of contacts on two cores need
    # the defaults' patience, or a slow answer becomes an ambiguous call never dialled again.
    # And enough credit for every call.
    for _ in range(3):
        stack.start_worker(
            DIALER_JOB_TIMEOUT_S="60",
            DIALER_PROVIDER_TIMEOUT_S="20",
            DIALER_RECONCILE_DEADLINE_S="600",
        )
    await stack.knobs(time_scale=0.01, balance=100_000_000)
    cid = await _campaign(stack, CONTACTS)
    watch = Watch(database_url, cid)
    # Contact i lives in ZONES[i % 3]: the first zones get one more when 3 does not divide it.
    per_zone = {zone: len(range(i, CONTACTS, 3)) for i, zone in enumerate(ZONES)}
    assert (await stack.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200

    async def zone_done(zone: str) -> bool:
        return (await watch.final_per_zone())[zone] == per_zone[zone]

    # Tokyo's morning: only Tokyo is dialled.
    await wait_for(lambda: zone_done(ZONES[0]), 300, "every Tokyo contact final", 1.0)
    assert {zone for zone, _ in await watch.attempts()} == {ZONES[0]}

    # 09:30 in London (18:30 in Tokyo, 04:30 in New York).
    london = MONDAY + timedelta(hours=9)
    stack.move_clock((london - datetime.now(UTC)).total_seconds())
    await wait_for(lambda: zone_done(ZONES[1]), 300, "every London contact final", 1.0)

    # 09:30 in New York, then pause at once: nothing more than one batch goes out.
    new_york = MONDAY + timedelta(hours=14)
    stack.move_clock((new_york - datetime.now(UTC)).total_seconds())
    paused = await stack.api.post(f"/v1/campaigns/{cid}/pause", json={"reason": "e2e"})
    assert paused.status_code == 200
    at_pause = await watch.attempt_count()
    held = await _counts(stack, cid)
    assert held["counts"].get("held", 0) > 0
    await asyncio.sleep(2)  # a beat: two hopper ticks, and whatever they enqueued
    assert await watch.attempt_count() - at_pause <= 200  # DIALER_HOPPER_BATCH
    assert (await stack.api.post(f"/v1/campaigns/{cid}/resume")).status_code == 200

    async def completed() -> bool:
        return bool((await _counts(stack, cid))["status"] == "completed")

    await wait_for(completed, 300, "the campaign to complete", 1.0)
    assert sum((await watch.final_per_zone()).values()) == CONTACTS
    # Its counts (kept as tallies by three workers and the web process) are the rows' own.
    assert (await _counts(stack, cid))["counts"] == await watch.counts()
    for zone, moment in await watch.attempts():
        local = moment.astimezone(ZoneInfo(zone))
        assert local.weekday() < 5 and time(9) <= local.time() < time(20), (zone, local)
    per_contact = Counter(c["recipient"] for c in await stack.calls())
    assert max(per_contact.values()) <= 2
    assert len(per_contact) <= CONTACTS
    await watch.engine.dispose()


async def test_cancel_leaves_nothing_to_dial(stack: Stack, database_url: str) -> None:
    stack.move_clock((MONDAY - datetime.now(UTC)).total_seconds())
    cid = await _campaign(stack, 30)
    await stack.api.post(f"/v1/campaigns/{cid}/start")
    canceled = (await stack.api.post(f"/v1/campaigns/{cid}/cancel")).json()
    assert canceled["status"] == "canceled"
    assert canceled["counts"] == {"canceled": 30}
    stack.start_worker()
    await asyncio.sleep(3)  # three hopper ticks with nothing to find
    assert await stack.calls() == []
