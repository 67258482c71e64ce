"""A campaign with a call script, end to end through the sandbox: a three-way question with a
transfer to the front desk on 0 and an opt-out on 9; each contact's answer in results.csv (a
column per question), the transferred marked so, and the per-answer counts matching the CSV."""

from __future__ import annotations

import copy
import csv
import io
import json
from collections import Counter
from typing import Any

from dialer.serve import running_worker
from tests.scripts.clinic import CLINIC
from tests.support import SQLITE_ONLY, Harness, wait_for
from tests.webhooks.receiver import Receiver

DESK = "+81312345670"  # its last digit: the front desk answers
CSV = (
    "氏名,電話番号,予約時刻\n"
    "青木,+14155550113,10時\n"  # presses 1: confirmed
    "井上,+14155550123,11時\n"  # 2: reschedule
    "上田,+14155550103,12時\n"  # 0: front desk, put through
    "江藤,+14155550193,13時\n"  # 9: opted out
    "大野,+14155558883,14時\n"  # nothing, three times: no answer
)


def _script() -> dict[str, Any]:
    script = copy.deepcopy(CLINIC)
    script["steps"]["desk"] = {"transfer": DESK}
    return script


async def _campaign(harness: Harness, script: dict[str, Any], webhook: str | None = None) -> Any:
    body = {
        "name": "予約確認",
        "provider": "voxology",
        "channel": "voice_flow",
        "from": "+14155550999",
        "script": script,
        "schedule": {"window_start": "00:00:00", "window_end": "23:59:59"},
        "policy": {"max_attempts": 1},
        **({"webhook_url": webhook} if webhook else {}),
    }
    return await harness.api.post("/v1/campaigns", json=body)


async def test_answers_per_question_transfers_and_counts(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    assert (await harness.api.post("/v1/webhooks", json={"url": url})).status_code == 201
    created = await _campaign(harness, _script(), url)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert created.json()["lang"] == "ja" and created.json()["script"]["start"] == "greet"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("予約.csv", CSV.encode(), "text/csv")}
    )
    assert upload.status_code == 201 and upload.json()["imported"] == 5, upload.text
    checked = upload.json()["script_check"]
    assert checked["problems"] == [] and 300 < checked["largest_flow_bytes"] < 31_415
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def done() -> dict[str, Any] | None:
            body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
            return body if body["status"] == "completed" else None

        campaign = await wait_for(done, 90, "the campaign to complete")

        async def reported() -> bool:
            return "campaign.finished" in got.kinds()

        await wait_for(reported, 30, "campaign.finished")

    results = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
    rows = {r["氏名"]: r for r in csv.DictReader(io.StringIO(results.text))}
    assert {name: row["confirm"] for name, row in rows.items()} == {
        "青木": "confirmed",
        "井上": "reschedule",
        "上田": "front desk",
        "江藤": "opted out",
        "大野": "",
    }
    assert {name for name, row in rows.items() if row["transferred_to"]} == {"上田"}
    assert rows["上田"]["transferred_to"] == DESK and rows["上田"]["transfer_s"] != ""
    assert {row["outcome"] for row in rows.values()} == {"answered"}
    # The counts the campaign shows are the CSV's.
    counted = Counter(row["confirm"] for row in rows.values() if row["confirm"])
    assert campaign["questions"] == {"confirm": dict(counted)}
    # The texts were the contact's: each call heard its own name, in Japanese.
    calls = {c.no: c for c in harness.sandbox.voxology_calls.values() if c.no != DESK}
    assert calls["+14155550113"].heard[0] == "青木様、明日10時のご予約です。"
    assert len([h for h in calls["+14155558883"].heard if h.startswith("確定は1")]) == 3
    # The opt-out holds: the number is on the list.
    listed = await harness.api.get("/v1/do-not-contact")
    assert [b["number"] for b in listed.json()] == ["+14155550193"]
    bodies = [json.loads(r.body) for r in got.taken]
    answers = {
        b["attempt"]["to"]: (b["attempt"]["answers"], b["attempt"]["transferred_to"])
        for b in bodies
        if b["type"] == "attempt.finished"
    }
    assert answers["+14155550103"] == ({"confirm": "front desk"}, DESK)
    assert answers["+14155558883"] == (None, None)


@SQLITE_ONLY  # a script's rules, not the database's
async def test_a_broken_script_is_refused_at_creation_naming_the_step(harness: Harness) -> None:
    missing = _script()
    missing["steps"]["thanks"]["next"] = "goodbye"
    unreachable = _script()
    unreachable["steps"]["spare"] = {"say": "never"}
    huge = _script()
    for n in range(30):
        huge["steps"][f"long{n}"] = {"say": "お" * 1000, "next": f"long{n + 1}"}
    huge["steps"]["long30"] = {"hangup": True}
    huge["steps"]["thanks"]["next"] = "long0"
    for script, named in [
        (missing, "steps.thanks.next: no step named 'goodbye'"),
        (unreachable, "steps.spare: unreachable from start 'greet'"),
        (huge, "the flow from steps.thanks"),
    ]:
        refused = await _campaign(harness, script)
        assert refused.status_code == 422, refused.text
        assert named in refused.text
    assert huge and "hard limit of 81000" in refused.text
    listed = await harness.api.get("/v1/campaigns")
    assert listed.json() == [] and harness.sandbox.voxology_calls == {}


@SQLITE_ONLY  # a script's rules, not the database's
async def test_a_test_call_rings_only_the_given_number_outside_the_counts(harness: Harness) -> None:
    created = await _campaign(harness, _script())
    cid = created.json()["id"]
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("予約.csv", CSV.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    before = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    async with running_worker(harness.settings, harness.redis_url):
        tried = await harness.api.post(
            f"/v1/campaigns/{cid}/test-call", json={"to": "+14155550123"}
        )
        assert tried.status_code == 202, tried.text
        assert tried.json()["campaign_id"] is None
        final = await harness.wait_final(tried.json()["id"])
    assert final["answers"] == {"confirm": "reschedule"}
    [call] = harness.sandbox.voxology_calls.values()
    # The first contact's columns, to the given number only.
    assert call.no == "+14155550123" and call.heard[0] == "青木様、明日10時のご予約です。"
    after = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    for tally in ("counts", "outcomes", "answers", "questions"):
        assert after[tally] == before[tally], tally
    assert after["status"] == "draft"
    missing = await harness.api.post("/v1/campaigns/999/test-call", json={"to": "+14155550123"})
    assert missing.status_code == 404
    for bad in ("not a number", "+1" * 20, ""):
        refused = await harness.api.post(f"/v1/campaigns/{cid}/test-call", json={"to": bad})
        assert refused.status_code == 422, (bad, refused.text)
    assert len(harness.sandbox.voxology_calls) == 1


@SQLITE_ONLY  # a script's rules, not the database's
async def test_an_upload_whose_longest_values_make_a_flow_too_big_is_told(harness: Harness) -> None:
    # The memo is read after the question: the first flow is small, the next one too big.
    steps: dict[str, Any] = {f"s{n}": {"say": "{{ メモ }}", "next": f"s{n + 1}"} for n in range(30)}
    steps["s30"] = {"hangup": True}
    steps["ask"] = {"ask": "Press 1.", "keys": {"1": {"label": "yes", "next": "s0"}}}
    created = await _campaign(harness, {"start": "ask", "steps": steps})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    rows = "電話番号,メモ\n+14155550113,短い\n+14155550123," + "長" * 990 + "\n"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    [problem] = upload.json()["script_check"]["problems"]
    assert problem.startswith("the flow from steps.s0: ") and "hard limit" in problem
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def done() -> dict[str, Any] | None:
            body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
            return body if body["status"] == "completed" else None

        await wait_for(done, 60, "the campaign to complete")
    results = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
    rows_out = {r["phone"]: r for r in csv.DictReader(io.StringIO(results.text))}
    long = rows_out["+14155550123"]
    assert (long["status"], long["attempts"]) == ("failed", "0") and "hard limit" in long[
        "last_error"
    ]
    assert [c.no for c in harness.sandbox.voxology_calls.values()] == ["+14155550113"]
