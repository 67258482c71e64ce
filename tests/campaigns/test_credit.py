"""Minimum credits: a campaign refuses to start on too little, pauses when credit runs out
without costing anyone an attempt, and resumes by itself after a top-up."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from dialer.campaigns.credit import Credit, watch_credit
from dialer.db import session_scope
from dialer.dispatch.service import dial_notification
from dialer.models import Attempt, Notification
from dialer.serve import running_worker
from dialer.vocabulary import AttemptStatus
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
        "insufficient credit: balance 149.5 credits is under the minimum 50 "
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
        "insufficient credit: balance 40 credits is under the minimum 50 "
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
    assert body["pause_kind"] == "credit"
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
        assert stopped["pause_kind"] == "credit"
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


async def _voxology_sms_campaign(harness: Harness, contacts: int) -> int:
    body = {
        "name": "outage texts",
        "provider": "voxology",
        "channel": "sms",
        "from": "+14155550999",
        "template": "Power is back at {{ name }}.",
        "schedule": ALL_DAY,
        "policy": {"max_attempts": 2},
    }
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    rows = "".join(f"+1415555{n:04d},Street {n}\n" for n in range(1000, 1000 + contacts))
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts",
        files={"file": ("c.csv", f"phone,name\n{rows}".encode(), "text/csv")},
    )
    assert upload.json()["imported"] == contacts, upload.text
    return cid


async def test_a_voxology_campaign_is_reckoned_in_dollars_and_shows_its_estimate_first(
    harness: Harness,
) -> None:
    cid = await _voxology_sms_campaign(harness, 20)
    assert harness.sandbox.config.voxology_balance == 100.0
    estimate = (await harness.api.get(f"/v1/campaigns/{cid}/estimate")).json()
    assert estimate == {
        "campaign_id": cid,
        "provider": "voxology",
        "channel": "sms",
        "unit": "USD",
        "contacts_to_dial": 20,
        "attempts_expected": 20,
        "attempts_at_most": 40,
        "cost_per_attempt": 0.01,
        "basis": "the configured cost of a sms attempt on voxology",
        "estimated_cost": 0.2,
        "estimated_cost_at_most": 0.4,
        "minimum": 1.0,
        "balance": 100.0,
        "balance_problem": None,
        "start_allowed": True,
        "reason": None,
    }
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    running = (await harness.api.get(f"/v1/campaigns/{cid}/estimate")).json()
    assert running["start_allowed"] is False and "running" in running["reason"]
    async with running_worker(harness.settings, harness.redis_url):

        async def costed() -> list[Attempt] | None:
            async with session_scope(harness.runtime.sessions) as session:
                found = list(
                    (
                        await session.exec(
                            select(Attempt)
                            .join(Notification)
                            .where(col(Notification.campaign_id) == cid)
                        )
                    ).all()
                )
            return found if len(found) == 20 and all(a.cost for a in found) else None

        attempts = await wait_for(costed, 60, "every text's charge from Voxology")
    # Half a cent a part in the sandbox: the charge Voxology reported, not our estimate.
    assert {a.cost for a in attempts} == {0.005}
    after = (await harness.api.get(f"/v1/campaigns/{cid}/estimate")).json()
    # The two texts to ...9 were undelivered and wait for their retry (...8 opted out).
    assert after["contacts_to_dial"] == 2
    assert "average cost of this campaign's latest 20" in after["basis"]


async def test_a_voxology_balance_under_its_own_minimum_refuses_in_dollars(
    harness: Harness,
) -> None:
    cid = await _voxology_sms_campaign(harness, 3)
    harness.sandbox.config.voxology_balance = 1.02
    refused = await harness.api.post(f"/v1/campaigns/{cid}/start")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "insufficient credit: balance 1.02 USD is under the minimum 1 "
        "plus the estimated remaining cost 0.03"
    )
    estimate = (await harness.api.get(f"/v1/campaigns/{cid}/estimate")).json()
    assert estimate["start_allowed"] is False and estimate["reason"] == refused.json()["detail"]


async def test_each_provider_shows_its_balance_unit_rules_and_limits(harness: Harness) -> None:
    listed = {p["name"]: p for p in (await harness.api.get("/v1/providers")).json()}
    assert set(listed) == {"xoxzo", "voxology"}
    assert (listed["xoxzo"]["unit"], listed["xoxzo"]["balance"]) == ("credits", 10_000.0)
    assert (listed["voxology"]["unit"], listed["voxology"]["balance"]) == ("USD", 100.0)
    assert listed["voxology"]["cost_per_attempt"]["sms"] == 0.01
    assert listed["xoxzo"]["limits"]["calls"] == harness.settings.limits_for("xoxzo").calls
