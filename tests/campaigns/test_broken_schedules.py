"""A campaign's schedule never stops the hopper: an offset window is refused at creation, and a
schedule stored before that rule pauses its own campaign while every other one dials on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from dialer.db import session_scope
from dialer.dispatch.hopper import run_hopper
from dialer.dispatch.service import dial_notification
from dialer.models import Campaign, Notification
from dialer.security import callback_token
from tests.campaigns.test_dispatch import ALL_DAY, _campaign, _contacts
from tests.support import Harness


async def _refused(harness: Harness, schedule: dict[str, str]) -> str:
    body = {"name": "x", "channel": "tts", "from": "+81312345678", "template": "hi"}
    answer = await harness.api.post("/v1/campaigns", json={**body, "schedule": schedule})
    assert answer.status_code == 422, answer.text
    return answer.text


@pytest.mark.parametrize(
    "window",
    [
        {"window_start": "00:00+09:00", "window_end": "21:00+09:00"},
        {"window_start": "00:00", "window_end": "21:00+09:00"},
        {"window_start": "00:00Z", "window_end": "21:00"},
    ],
)
async def test_a_window_with_a_utc_offset_is_a_clear_422(
    harness: Harness, window: dict[str, str]
) -> None:
    assert "takes no UTC offset" in await _refused(harness, window)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"])
async def test_a_schedule_near_the_ends_of_time_is_a_clear_422(
    harness: Harness, moment: str
) -> None:
    assert "between the years" in await _refused(harness, {"start_at": moment})


async def _store_schedule(harness: Harness, cid: int, schedule: dict[str, Any]) -> None:
    """What a campaign created before the rule may hold: written straight to the database."""
    async with session_scope(harness.runtime.sessions) as session:
        campaign = await session.get(Campaign, cid)
        assert campaign is not None
        campaign.schedule = {**campaign.schedule, **schedule}


async def test_a_stored_offset_window_pauses_its_campaign_and_the_others_dial(
    harness: Harness,
) -> None:
    broken = await _campaign(harness, schedule=ALL_DAY)
    healthy = await _campaign(harness, schedule=ALL_DAY)
    for cid in (broken, healthy):
        assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    await _store_schedule(
        harness, broken, {"window_start": "00:00:00+09:00", "window_end": "21:00:00+09:00"}
    )
    await harness.runtime.redis.flushall()

    ticked = await run_hopper(harness.runtime)

    assert ticked["dials"] == 5  # the healthy campaign's five
    for contact in await _contacts(harness, broken):
        assert contact.id is not None
        assert await dial_notification(harness.runtime, contact.id) == "not due"
    body = (await harness.api.get(f"/v1/campaigns/{broken}")).json()
    assert body["status"] == "paused"
    assert "schedule is no longer valid" in body["pause_reason"]
    assert {c.status for c in await _contacts(harness, broken)} == {"held"}
    for contact in await _contacts(harness, healthy):
        assert contact.id is not None
        assert await dial_notification(harness.runtime, contact.id) == "placed"
    assert len(harness.sandbox.calls) == 5
    assert (await run_hopper(harness.runtime))["dials"] == 0


async def test_a_scheduled_campaign_with_a_broken_schedule_is_paused_by_the_tick(
    harness: Harness,
) -> None:
    cid = await _campaign(harness, schedule={**ALL_DAY, "start_at": "2190-01-01T00:00:00Z"})
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).json()["status"] == "scheduled"
    await _store_schedule(harness, cid, {"start_at": "0001-01-01T00:00:00+09:00"})
    await run_hopper(harness.runtime)
    async with session_scope(harness.runtime.sessions) as session:
        campaign = await session.get(Campaign, cid)
        assert campaign is not None and campaign.status == "paused"
        held = await session.exec(
            select(Notification.status).where(col(Notification.campaign_id) == cid)
        )
        assert set(held.all()) == {"held"}


async def test_a_notification_whose_stored_policy_is_broken_is_closed_once(
    harness: Harness,
) -> None:
    body = await harness.notify("+819012345670")
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.policy = {**row.policy, "window_start": "09:00+09:00", "window_end": "20:00"}
    assert await dial_notification(harness.runtime, body["id"]) == (
        "failed: its data cannot be dialled"
    )
    read = await harness.read(body["id"])
    assert read["status"] == "failed" and "cannot be dialled" in read["last_error"]
    assert harness.sandbox.calls == {}
    assert await dial_notification(harness.runtime, body["id"]) == "not due"


async def test_a_campaign_with_a_broken_stored_schedule_takes_contacts_but_will_not_start(
    harness: Harness,
) -> None:
    cid = await _campaign(harness, schedule=ALL_DAY)
    await _store_schedule(harness, cid, {"window_start": "00:00:00+09:00"})
    rows = "phone,name,parcel\n090-1234-5688,Z,P\n"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    started = await harness.api.post(f"/v1/campaigns/{cid}/start")
    assert started.status_code == 409 and "schedule is no longer valid" in started.text
    read = await harness.api.get(f"/v1/campaigns/{cid}")
    assert read.status_code == 200 and read.json()["schedule"]["window_start"] == "00:00:00+09:00"


async def test_an_attempt_finishes_and_a_reschedule_is_409_under_a_broken_stored_policy(
    harness: Harness,
) -> None:
    harness.sandbox.config.time_scale = 100.0  # the call rings on; the test sends its end
    body = await harness.notify("+819012345670", policy={"max_attempts": 2})
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    later = await harness.notify("+819012345671", send_at="2099-01-01T09:00:00+09:00")
    async with session_scope(harness.runtime.sessions) as session:
        for notification_id in (body["id"], later["id"]):
            row = await session.get(Notification, notification_id)
            assert row is not None
            row.policy = {**row.policy, "window_start": "09:00+09:00", "window_end": "20:00"}
    attempt = (await harness.read(body["id"]))["attempts"][0]
    token = callback_token(harness.settings.secret_key.get_secret_value(), "xoxzo", attempt["id"])
    url = f"/v1/callbacks/xoxzo/voice/{attempt['id']}/{token}"
    ended = await harness.api.post(
        url, data={"callid": attempt["provider_id"], "status": "ANSWERED", "duration": "5"}
    )
    assert ended.status_code == 200, ended.text
    assert (await harness.read(body["id"]))["status"] == "delivered"
    moved = await harness.api.patch(
        f"/v1/notifications/{later['id']}", json={"send_at": "2099-01-02T09:00:00+09:00"}
    )
    assert moved.status_code == 409 and "policy is no longer valid" in moved.text
