"""/v1/campaigns through the real app: create, upload contacts, the lifecycle, the issue report."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from dialer.pacing.service import account_limit
from tests.support import SQLITE_ONLY, Harness

CAMPAIGN: dict[str, Any] = {
    "name": "clinic reminders",
    "channel": "tts",
    "from": "03-1234-5678",
    "template": "Hello {{ name }}, your appointment is at {{ time }}.",
    "lang": "en",
}
CSV = (
    "phone,name,time\n"
    "090-1234-5670,Aiko,10:00\n"
    "090-1234-5671,Kenji,11:00\n"
    "090-1234-5670,Aiko again,12:00\n"
    "12,Shorty,13:00\n"
    "090-1234-5672,=cmd|' /C calc'!A0,14:00\n"
    "090-1234-5673,,15:00\n"
)


async def _create(harness: Harness, **fields: Any) -> dict[str, Any]:
    answer = await harness.api.post("/v1/campaigns", json={**CAMPAIGN, **fields})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _upload(harness: Harness, campaign_id: int, text: str, **form: str) -> Any:
    return await harness.api.post(
        f"/v1/campaigns/{campaign_id}/contacts",
        files={"file": ("contacts.csv", text.encode(), "text/csv")},
        data=form,
    )


async def test_a_campaign_is_created_as_a_draft_with_its_defaults(harness: Harness) -> None:
    body = await _create(harness)
    assert body["status"] == "draft" and body["from"] == "+81312345678"
    assert body["schedule"]["window_start"] == "09:00:00"
    assert body["policy"]["max_attempts"] == 3 and body["policy"]["voicemail"] == "leave"
    assert (body["counts"], body["progress"]) == ({}, 0.0)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"template": "Hello {{ name"}, "template:"),
        ({"channel": "conference"}, "no conferences"),
        ({"channel": "playback"}, "channel playback takes recording_url"),
        ({"schedule": {"window_start": "21:00", "window_end": "09:00"}}, "window_end"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, "unknown time zone"),
        ({"schedule": {"weekdays": [7]}}, "weekdays are 0"),
        ({"policy": {"voicemail": "retry"}}, "needs channel voice_flow"),
        ({"from": "12"}, "invalid phone number"),
        ({"policy": {"sms_fallback": {"template": "Hi {{ name"}}}, '"sms_fallback","template"'),
        ({"policy": {"sms_fallback": {"template": "Hi", "on": []}}}, '"sms_fallback","on"'),
        ({"policy": {"sms_fallback": {"template": "Hi", "on": ["unknown"]}}}, "'voicemail'"),
        (
            {"channel": "sms", "lang": None, "policy": {"sms_fallback": {"template": "Hi"}}},
            "channel sms has none",
        ),
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_bad_campaign_is_422_naming_the_problem(
    harness: Harness, change: dict[str, Any], words: str
) -> None:
    answer = await harness.api.post("/v1/campaigns", json={**CAMPAIGN, **change})
    assert answer.status_code == 422, answer.text
    assert words in answer.text


async def test_an_upload_imports_good_rows_and_reports_each_bad_one(harness: Harness) -> None:
    campaign = await _create(harness)
    answer = await _upload(harness, campaign["id"], CSV)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert {k: report[k] for k in ("rows", "imported", "duplicate", "suppressed", "invalid")} == {
        "rows": 6,
        "imported": 3,
        "duplicate": 1,
        "suppressed": 0,
        "invalid": 2,
    }
    issues = await harness.api.get(report["issues_url"])
    assert issues.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(issues.text))) == [
        ["row", "phone", "reason"],
        ["4", "090-1234-5670", "duplicate of row 2"],
        ["5", "12", "invalid phone number: too short"],
        ["7", "090-1234-5673", "missing variable 'name'"],
    ]
    body = (await harness.api.get(f"/v1/campaigns/{campaign['id']}")).json()
    assert body["counts"] == {"held": 3}


async def test_a_row_missing_a_variable_of_the_fallback_text_is_reported_at_upload(
    harness: Harness,
) -> None:
    fallback = {"template": "{{ name }}: we missed you, call {{ clinic }}."}
    campaign = await _create(harness, policy={"sms_fallback": fallback})
    text = "phone,name,time,clinic\n090-1234-5670,Aiko,10:00,03-0000\n090-1234-5671,Kenji,11:00,\n"
    report = (await _upload(harness, campaign["id"], text)).json()
    assert (report["imported"], report["invalid"]) == (1, 1)
    issues = await harness.api.get(report["issues_url"])
    assert list(csv.reader(io.StringIO(issues.text)))[1:] == [
        ["3", "090-1234-5671", "missing variable 'clinic'"]
    ]


async def test_an_upload_can_rename_columns_to_the_templates_names(harness: Harness) -> None:
    campaign = await _create(harness)
    text = "phone,full name,slot\n090-1234-5670,Aiko,10:00\n"
    rename = '{"full name": "name", "slot": "time"}'
    answer = await _upload(harness, campaign["id"], text, rename=rename)
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == 1
    for bad, words in [("[1]", '"rename"'), ('{"nmae": "name"}', "does not have: nmae")]:
        refused = await _upload(harness, campaign["id"], text, rename=bad)
        assert refused.status_code == 422 and words in refused.text, refused.text


async def test_a_file_the_campaign_cannot_use_is_422_and_imports_nothing(harness: Harness) -> None:
    campaign = await _create(harness)
    answer = await _upload(harness, campaign["id"], "phone,name\n090-1234-5670,A\n")
    assert answer.status_code == 422
    assert "the template needs column(s) time" in answer.text
    answer = await _upload(harness, campaign["id"], "tel;name;time\n", phone_column="cell")
    assert answer.status_code == 422 and "no column 'cell'" in answer.text
    body = (await harness.api.get(f"/v1/campaigns/{campaign['id']}")).json()
    assert body["counts"] == {}


async def test_start_pause_resume_and_cancel_move_the_contacts(harness: Harness) -> None:
    campaign = await _create(harness)
    cid = campaign["id"]
    await _upload(harness, cid, CSV)
    started = (await harness.api.post(f"/v1/campaigns/{cid}/start")).json()
    assert (started["status"], started["counts"]) == ("running", {"queued": 3})
    late = await _upload(harness, cid, "phone,name,time\n090-1234-5679,Late,16:00\n")
    assert late.json()["imported"] == 1
    paused = await harness.api.post(f"/v1/campaigns/{cid}/pause", json={"reason": "clinic shut"})
    body = paused.json()
    assert (body["status"], body["pause_reason"], body["counts"]) == (
        "paused",
        "clinic shut",
        {"held": 4},
    )
    assert body["pause_kind"] == "manual"
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 409
    resumed = (await harness.api.post(f"/v1/campaigns/{cid}/resume")).json()
    assert (resumed["status"], resumed["counts"], resumed["pause_reason"]) == (
        "running",
        {"queued": 4},
        None,
    )
    assert resumed["pause_kind"] is None
    canceled = (await harness.api.post(f"/v1/campaigns/{cid}/cancel")).json()
    assert (canceled["status"], canceled["counts"], canceled["progress"]) == (
        "canceled",
        {"canceled": 4},
        1.0,
    )
    ended = await harness.api.post(f"/v1/campaigns/{cid}/resume")
    assert ended.status_code == 409
    assert "has ended" in ended.json()["detail"] and "use start" not in ended.json()["detail"]
    assert "has ended" in (await harness.api.post(f"/v1/campaigns/{cid}/start")).text
    refused = await _upload(harness, cid, "phone,name,time\n090-1234-5678,N,1\n")
    assert refused.status_code == 422 and "takes no more contacts" in refused.text


async def test_a_campaign_starting_later_is_scheduled(harness: Harness) -> None:
    campaign = await _create(harness, schedule={"start_at": "2099-01-01T09:00:00+09:00"})
    started = (await harness.api.post(f"/v1/campaigns/{campaign['id']}/start")).json()
    assert started["status"] == "scheduled"


async def test_campaigns_need_an_api_key_and_exist(harness: Harness) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=harness.settings.public_url) as anonymous:
        assert (await anonymous.post("/v1/campaigns", json=CAMPAIGN)).status_code == 401
    assert (await harness.api.get("/v1/campaigns/999")).status_code == 404
    assert (await harness.api.post("/v1/campaigns/999/start")).status_code == 404
    upload = await _upload(harness, 999, CSV)
    assert upload.status_code == 404


async def test_contacts_can_be_added_as_json_with_the_same_rules(harness: Harness) -> None:
    campaign = await _create(harness)
    contacts = [
        {"phone": "090-1234-5670", "variables": {"name": "Aiko", "time": "10:00"}},
        {"phone": "+81 90 1234 5670", "variables": {"name": "Aiko", "time": "10:00"}},
        {"phone": "12", "variables": {"name": "Shorty", "time": 9}},
        {"phone": "090-1234-5671", "variables": {"name": "No time"}},
        {
            "phone": "+1 415 555 0100",
            "variables": {"name": 'Sam, "the" caller', "time": 11.5},
            "timezone": "America/Los_Angeles",
        },
    ]
    answer = await harness.api.post(
        f"/v1/campaigns/{campaign['id']}/contacts/json", json={"contacts": contacts}
    )
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["imported"], report["duplicate"], report["invalid"]) == (2, 1, 2)
    issues = list(csv.reader(io.StringIO((await harness.api.get(report["issues_url"])).text)))
    assert issues[1:] == [
        # A value with spaces is text, not a number: guarded as a spreadsheet would need.
        ["2", "'+81 90 1234 5670", "duplicate of row 1"],
        ["3", "12", "invalid phone number: too short"],
        ["4", "090-1234-5671", "missing variable 'time'"],
    ]
    empty = await harness.api.post(
        f"/v1/campaigns/{campaign['id']}/contacts/json", json={"contacts": []}
    )
    assert empty.status_code == 422 and "contacts" in empty.text


async def test_a_campaign_shows_its_pace_and_the_providers_recent_throttling(
    harness: Harness,
) -> None:
    campaign = await _create(harness, policy={"max_rate": 2})
    body = (await harness.api.get(f"/v1/campaigns/{campaign['id']}")).json()
    account, own = body["pacing"]
    assert account["limit"].startswith("xoxzo:") and account["limit"].endswith(":calls")
    assert (account["configured_per_s"], account["responses_429"]) == (1000, 0)
    assert own == {
        "limit": f"campaign:{campaign['id']}:calls",
        "configured_per_s": 2.0,
        "rate_per_s": 2.0,
        "ceiling_per_s": 2.0,
        "responses_429": 0,
        "last_429_s_ago": None,
        "held_for_s": 0.0,
    }
    limit = account_limit(harness.settings, "xoxzo", "calls")
    await harness.runtime.limiter.throttled(limit, retry_after_s=30)
    account = (await harness.api.get(f"/v1/campaigns/{campaign['id']}")).json()["pacing"][0]
    assert account["responses_429"] == 1 and account["rate_per_s"] == 500
    assert account["last_429_s_ago"] < 5 and 25 < account["held_for_s"] <= 30


async def test_campaigns_are_listed_newest_first_with_counts_by_status_and_page(
    harness: Harness,
) -> None:
    ids = [(await _create(harness, name=f"c{n}"))["id"] for n in range(3)]
    assert (await _upload(harness, ids[1], CSV)).status_code == 201
    canceled = await harness.api.post(f"/v1/campaigns/{ids[2]}/cancel")
    assert canceled.status_code == 200
    listed = (await harness.api.get("/v1/campaigns")).json()
    assert [c["id"] for c in listed] == ids[::-1]
    assert listed[1]["counts"] == {"held": 3} and listed[1]["progress"] == 0.0
    drafts = (await harness.api.get("/v1/campaigns", params={"status": "draft"})).json()
    assert [c["id"] for c in drafts] == [ids[1], ids[0]]
    page = (await harness.api.get("/v1/campaigns", params={"before": ids[2], "limit": 1})).json()
    assert [c["id"] for c in page] == [ids[1]]
    bad = await harness.api.get("/v1/campaigns", params={"status": "sleeping"})
    assert bad.status_code == 422
