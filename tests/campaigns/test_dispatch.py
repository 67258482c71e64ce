"""Campaign contacts through the one pipeline: gated at dispatch, rendered, dialled, completed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arq.constants import default_queue_name
from sqlmodel import col, select

from dialer.db import session_scope
from dialer.dispatch.hopper import run_hopper
from dialer.dispatch.service import dial_notification
from dialer.models import Notification
from dialer.serve import running_worker
from tests.support import Harness, wait_for

ALL_DAY = {"window_start": "00:00:00", "window_end": "23:59:59"}
CAMPAIGN: dict[str, Any] = {
    "name": "parcel notices",
    "channel": "tts",
    "from": "+81312345678",
    "template": "Hello {{ name }}, parcel {{ parcel }} arrives today.",
    "lang": "en",
    "policy": {"max_attempts": 2, "retry": {"no_answer": {"delay_s": 1}}},
}
# Last digits 0-6 answer, 7 and 8 do not answer, 9 fails (the sandbox's rule).
CSV = "phone,name,parcel\n" + "".join(f"090-1234-567{d},Person {d},P-{d}\n" for d in "01279")


async def _campaign(harness: Harness, **fields: Any) -> int:
    body = {**CAMPAIGN, **fields}
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", CSV.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    return cid


async def _run_to_completion(harness: Harness, cid: int) -> dict[str, Any]:
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200

    async def completed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
        return body if body["status"] == "completed" else None

    async with running_worker(harness.settings, harness.redis_url):
        return await wait_for(completed, 60, "the campaign to complete")


async def _contacts(harness: Harness, cid: int) -> list[Notification]:
    async with session_scope(harness.runtime.sessions) as session:
        rows = await session.exec(
            select(Notification)
            .where(col(Notification.campaign_id) == cid)
            .order_by(col(Notification.row_number))
        )
        return list(rows.all())


async def test_a_campaign_runs_to_completed_with_each_message_rendered(harness: Harness) -> None:
    cid = await _campaign(harness, schedule=ALL_DAY)
    body = await _run_to_completion(harness, cid)
    assert body["counts"] == {"delivered": 3, "failed": 2}
    assert body["outcomes"] == {"answered": 3, "no_answer": 1, "failed": 1}
    assert body["progress"] == 1.0
    contacts = await _contacts(harness, cid)
    assert contacts[0].text == "Hello Person 0, parcel P-0 arrives today."
    assert [c.attempts_made for c in contacts] == [1, 1, 1, 2, 1]
    spoken = {call.recipient: call.tts for call in harness.sandbox.calls.values()}
    assert len(harness.sandbox.calls) == 6
    assert all(spoken.values())
    results = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
    assert results.status_code == 200 and results.headers["content-type"].startswith("text/csv")
    header, *_ = list(csv.reader(io.StringIO(results.text)))
    # Where each row came from, the upload's own columns as they were named, what became of it.
    assert header[:6] == ["import_id", "row", "name", "parcel", "phone", "status"]
    rows = list(csv.DictReader(io.StringIO(results.text)))
    fields = ("row", "name", "phone", "status", "outcome", "attempts")
    assert [[r[f] for f in fields] for r in rows] == [
        ["2", "Person 0", "+819012345670", "delivered", "answered", "1"],
        ["3", "Person 1", "+819012345671", "delivered", "answered", "1"],
        ["4", "Person 2", "+819012345672", "delivered", "answered", "1"],
        ["5", "Person 7", "+819012345677", "failed", "no_answer", "2"],
        ["6", "Person 9", "+819012345679", "failed", "failed", "1"],
    ]
    assert len({r["import_id"] for r in rows}) == 1
    assert rows[0]["last_provider_id"] in harness.sandbox.calls
    assert rows[0]["last_provider_status"] == "ANSWERED"
    assert float(rows[0]["cost"]) > 0


async def test_contacts_the_calls_missed_get_the_fallback_text_once(harness: Harness) -> None:
    fallback = {"template": "{{ name }}: parcel {{ parcel }} is at the depot.", "on": ["no_answer"]}
    policy = {**CAMPAIGN["policy"], "sms_fallback": fallback}
    cid = await _campaign(harness, schedule=ALL_DAY, policy=policy)
    body = await _run_to_completion(harness, cid)
    # ...7 rang out twice, then had the text; ...9 failed, which this policy does not follow up.
    assert body["counts"] == {"delivered": 4, "failed": 1}
    assert body["outcomes"] == {"answered": 3, "delivered": 1, "failed": 1}
    texts = [(m.recipient, m.message) for m in harness.sandbox.messages.values()]
    assert texts == [("+819012345677", "Person 7: parcel P-7 is at the depot.")]
    assert harness.calls_to("+819012345677") == 2 and len(harness.sandbox.calls) == 6
    missed = (await _contacts(harness, cid))[3]
    assert missed.on_fallback and missed.attempts_made == 3 and missed.status == "delivered"
    results = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
    rows = list(csv.DictReader(io.StringIO(results.text)))
    assert [rows[3][f] for f in ("status", "outcome", "attempts")] == [
        "delivered",
        "delivered",
        "3",
    ]
    assert rows[3]["last_provider_id"] in harness.sandbox.messages


async def test_a_contact_outside_its_window_waits_for_the_next_opening(harness: Harness) -> None:
    tokyo_now = datetime.now(ZoneInfo("Asia/Tokyo"))
    start = (tokyo_now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=1)
    if end.date() != start.date() or start.date() != tokyo_now.date():
        start, end = start.replace(hour=1), start.replace(hour=2)  # late evening: use 01-02
    window = {"window_start": start.time().isoformat(), "window_end": end.time().isoformat()}
    cid = await _campaign(harness, schedule=window)
    await harness.api.post(f"/v1/campaigns/{cid}/start")
    first = (await _contacts(harness, cid))[0]
    assert first.id is not None
    assert await dial_notification(harness.runtime, first.id) == "not due"
    [after, *_] = await _contacts(harness, cid)
    assert after.status == "queued" and after.attempts_made == 0
    opening = after.due_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert opening.time() == start.time() and opening > tokyo_now
    assert harness.sandbox.calls == {}


async def test_a_paused_campaign_dials_nobody(harness: Harness) -> None:
    cid = await _campaign(harness, schedule=ALL_DAY)
    await harness.api.post(f"/v1/campaigns/{cid}/start")
    await harness.api.post(f"/v1/campaigns/{cid}/pause")
    for contact in await _contacts(harness, cid):
        assert contact.id is not None
        assert await dial_notification(harness.runtime, contact.id) == "not due"
    assert harness.sandbox.calls == {}


async def test_a_campaign_past_its_end_expires_what_is_left(harness: Harness) -> None:
    # Time enough to create, fill and start it before its end, on a machine under load.
    end = datetime.now(UTC) + timedelta(seconds=6)
    cid = await _campaign(harness, schedule={**ALL_DAY, "end_at": end.isoformat()})
    await harness.api.post(f"/v1/campaigns/{cid}/start")
    first = (await _contacts(harness, cid))[0]
    assert first.id is not None

    async def ended() -> bool:
        return datetime.now(UTC) > end

    await wait_for(ended, 10, "the campaign's end")
    await dial_notification(harness.runtime, first.id)
    [after, *_] = await _contacts(harness, cid)
    assert (after.status, after.last_error) == (
        "expired",
        "the campaign ended before it could be dialled",
    )


async def test_a_number_put_on_the_campaigns_list_after_import_is_not_dialled(
    harness: Harness,
) -> None:
    cid = await _campaign(harness, schedule=ALL_DAY)
    added = await harness.api.post(
        f"/v1/campaigns/{cid}/do-not-contact", json={"number": "090-1234-5670"}
    )
    assert added.status_code == 201
    await harness.api.post(f"/v1/campaigns/{cid}/start")
    first = (await _contacts(harness, cid))[0]
    assert first.id is not None and first.to_number == "+819012345670"
    assert await dial_notification(harness.runtime, first.id) == "not due"
    assert (await _contacts(harness, cid))[0].status == "suppressed"
    assert harness.sandbox.calls == {}


async def test_the_hopper_moves_contacts_in_a_closed_window_without_a_dial_job(
    harness: Harness,
) -> None:
    tokyo_today = datetime.now(ZoneInfo("Asia/Tokyo")).weekday()
    closed_today = {**ALL_DAY, "weekdays": [(tokyo_today + 3) % 7]}
    cid = await _campaign(harness, schedule=closed_today)
    await harness.api.post(f"/v1/campaigns/{cid}/start")
    ticked = await run_hopper(harness.runtime)
    assert ticked["dials"] == 0
    assert await harness.runtime.redis.zcard(default_queue_name) == 0
    for contact in await _contacts(harness, cid):
        assert contact.status == "queued" and contact.attempts_made == 0
        opening = contact.due_at.astimezone(ZoneInfo("Asia/Tokyo"))
        assert opening.weekday() == (tokyo_today + 3) % 7 and opening.time() == time(0)
