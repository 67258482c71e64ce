"""Minimum credits: a campaign refuses to start on too little, pauses when credit runs out
without costing anyone an attempt, and resumes by itself after a top-up."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from dialer.campaigns.credit import Credit, watch_credit
from dialer.db import session_scope
from dialer.dispatch.service import dial_notification
from dialer.models import Attempt, AttemptStatus, Notification
from dialer.serve import running_worker
from tests.support import Harness, wait_for

ALL_DAY = {"window_start": "00:00:00", "window_end": "23:59:59"}
# Every number answers (the sandbox's rule: last digit 0-6). An answered call costs 13 here.
CSV = "phone,name\n" + "".join(f"090-1234-56{n:02d},P{n}\n" for n in range(10, 17))
CSV += "".join(f"090-1234-57{n:02d},Q{n}\n" for n in range(0, 3))


async def _campaign(harness: Harness, **policy: Any) -> int:
    body = {
        "name": "credit",
        "channel": "tts",
        "from": "+81312345678",
        "template": "Hello {{ name }}",
        "lang": "en",
        "schedule": ALL_DAY,
        "policy": {"max_attempts": 1, **policy},
    }
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", CSV.encode(), "text/csv")}
    )
    assert upload.status_code == 201 and upload.json()["imported"] == 10, upload.text
    return cid


async def _campaign_body(harness: Harness, cid: int) -> dict[str, Any]:
    body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    return body


def test_credit_covers_the_minimum_plus_the_estimate() -> None:
    assert Credit(balance=150, minimum=50, estimate=100).enough
    short = Credit(balance=149.5, minimum=50, estimate=100)
    assert not short.enough
    assert short.reason() == (
        "insufficient credit: balance 149.5 is under the minimum 50 "
        "plus the estimated remaining cost 100"
    )
    # A balance that could not be read stops nothing: the provider's own refusal still would.
    assert Credit(balance=None, minimum=50, estimate=100).enough


async def test_a_campaign_refuses_to_start_under_the_minimum_or_the_estimate(
    harness: Harness,
) -> None:
    cid = await _campaign(harness)
    harness.sandbox.config.balance = 40
    refused = await harness.api.post(f"/v1/campaigns/{cid}/start")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "insufficient credit: balance 40 is under the minimum 50 "
        "plus the estimated remaining cost 100"
    )
    # Over the minimum, but not over it plus 10 contacts at 10 credits each.
    harness.sandbox.config.balance = 149
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 409
    assert (await _campaign_body(harness, cid))["status"] == "draft"
    harness.sandbox.config.balance = 150
    started = await harness.api.post(f"/v1/campaigns/{cid}/start")
    assert started.status_code == 200 and started.json()["status"] == "running"


async def test_a_refusal_for_credit_pauses_the_campaign_without_costing_the_attempt(
    harness: Harness,
) -> None:
    cid = await _campaign(harness)
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    # Spent elsewhere after the start: the provider refuses the next call.
    harness.sandbox.config.balance = 45
    async with session_scope(harness.runtime.sessions) as session:
        first = (
            await session.exec(
                select(Notification.id)
                .where(col(Notification.campaign_id) == cid)
                .order_by(col(Notification.id))
            )
        ).first()
    assert first is not None
    assert await dial_notification(harness.runtime, first) == "InsufficientCredit"
    body = await _campaign_body(harness, cid)
    assert body["status"] == "paused"
    assert body["pause_reason"].startswith("insufficient credit: the provider refused")
    assert "required: 50" in body["pause_reason"]
    async with session_scope(harness.runtime.sessions) as session:
        contact = await session.get(Notification, first)
        attempts = (
            await session.exec(select(Attempt).where(col(Attempt.notification_id) == first))
        ).all()
    assert contact is not None
    assert (contact.status, contact.attempts_made) == ("held", 0)
    assert [a.status for a in attempts] == [AttemptStatus.not_sent]
    assert harness.sandbox.calls == {}


async def test_credit_running_out_mid_campaign_pauses_it_and_a_top_up_completes_it(
    harness: Harness,
) -> None:
    cid = await _campaign(harness, max_rate=2)
    harness.sandbox.config.balance = 150  # enough to start; not enough for ten calls
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    settings = harness.settings.model_copy(update={"credit_check_interval_s": 0.5})

    async def paused() -> dict[str, Any] | None:
        body = await _campaign_body(harness, cid)
        return body if body["status"] == "paused" else None

    async def completed() -> dict[str, Any] | None:
        body = await _campaign_body(harness, cid)
        return body if body["status"] == "completed" else None

    async with running_worker(settings, harness.redis_url):
        stopped = await wait_for(paused, 30, "the campaign to pause for credit")
        assert stopped["pause_reason"].startswith("insufficient credit")
        calls_when_paused = len(harness.sandbox.calls)
        assert 0 < calls_when_paused < 10
        harness.sandbox.config.balance = 10_000
        done = await wait_for(completed, 60, "the campaign to resume and complete")
    assert done["counts"] == {"delivered": 10}
    assert done["pause_reason"] is None
    # One call each: nobody lost an attempt to the pause, nobody was rung twice.
    assert sorted(c.recipient for c in harness.sandbox.calls.values()) == sorted(
        set(c.recipient for c in harness.sandbox.calls.values())
    )
    assert len(harness.sandbox.calls) == 10
    assert await watch_credit(harness.runtime) in ({}, {"paused": 0, "resumed": 0})
