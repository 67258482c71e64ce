"""No single campaign or request stops the others: with a campaign whose stored window carries
an offset, a template that spins, and a 100 MB anonymous body all at once, a healthy campaign
beside them is dialled on time, by a worker sharing the web process's event loop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlmodel import col, func, select

from dialer.db import session_scope
from dialer.models import Attempt, Campaign, Notification
from dialer.serve import running_worker
from tests.campaigns.test_dispatch import ALL_DAY, _campaign
from tests.campaigns.test_template_bombs import bomb_campaign
from tests.support import Harness, wait_for

MB = 1024 * 1024


async def _anonymous_flood(harness: Harness) -> int:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), timeout=60) as anon:
        answer = await anon.post(
            "/v1/campaigns",
            content=b"{" + b" " * (100 * MB) + b"}",
            headers={"content-type": "application/json"},
        )
    return answer.status_code


async def _lateness_s(harness: Harness, cid: int) -> list[float]:
    """Seconds from the campaign's start to each contact's first attempt."""
    async with session_scope(harness.runtime.sessions) as session:
        campaign = await session.get(Campaign, cid)
        assert campaign is not None and campaign.started_at is not None
        firsts = await session.exec(
            select(func.min(Attempt.created_at))
            .join(Notification, col(Notification.id) == col(Attempt.notification_id))
            .where(col(Notification.campaign_id) == cid)
            .group_by(col(Notification.id))
        )
        return [(first - campaign.started_at).total_seconds() for first in firsts.all()]


async def test_a_healthy_campaign_is_dialled_on_time_beside_hostile_ones(
    harness: Harness,
) -> None:
    offset = await _campaign(harness, schedule=ALL_DAY)
    bombed = await bomb_campaign(harness)
    healthy = await _campaign(harness, schedule=ALL_DAY)
    for cid in (offset, bombed):
        assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with session_scope(harness.runtime.sessions) as session:
        stored = await session.get(Campaign, offset)
        assert stored is not None
        stored.schedule = {**stored.schedule, "window_start": "00:00+09:00"}

    async def completed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{healthy}")).json()
        return body if body["status"] == "completed" else None

    async with running_worker(harness.settings, harness.redis_url):
        flood = asyncio.create_task(_anonymous_flood(harness))
        assert (await harness.api.post(f"/v1/campaigns/{healthy}/start")).status_code == 200
        body = await wait_for(completed, 60, "the healthy campaign to complete")
        assert await flood == 401

    lateness = await _lateness_s(harness, healthy)
    print(f"healthy contacts dialled {min(lateness):.2f}-{max(lateness):.2f} s after the start")
    assert sum(body["counts"].values()) == 5 and len(lateness) == 5
    # Dialled within the hopper's tick and the slots of one second of the account's rate, plus
    # at most one template budget's render (twice) held by the bomb: a frozen worker never is.
    assert max(lateness) < 4 * harness.settings.template_budget_s + 5
    for cid, words in ((offset, "schedule is no longer valid"), (bombed, "budget")):
        hostile = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
        assert hostile["status"] == "paused" and words in hostile["pause_reason"]
    assert not any(call.recipient == "+819012345600" for call in harness.sandbox.calls.values())
