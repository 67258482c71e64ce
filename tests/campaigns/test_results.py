"""A clinic's "press 1 to confirm" campaign, read back as its users would: Japanese headers used
as they are, the answers in results.csv, in the webhook bodies and in the campaign's counts, and
every uploaded row accounted for in the results or the import's issues."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx

from dialer.serve import running_worker
from tests.support import Harness, wait_for
from tests.webhooks.receiver import Receiver

CSV = (
    "氏名,電話番号,予約時刻,メモ 欄\n"
    "山田,+14155550113,10時,初診\n"  # presses 1
    "佐藤,+14155550193,11時,\n"  # presses 9
    "鈴木,+14155550100,12時,再診\n"  # presses nothing
    "山田 again,+14155550113,13時,\n"  # a duplicate of row 2
    "短い,12,14時,\n"  # not a number
)


async def _campaign(harness: Harness, webhook: str) -> int:
    registered = await harness.api.post("/v1/webhooks", json={"url": webhook})
    assert registered.status_code == 201, registered.text
    body = {
        "name": "予約確認",
        "provider": "voxology",
        "channel": "voice_flow",
        "from": "+14155550999",
        "template": "{{ 氏名 }}様、{{ 予約時刻 }}のご予約です。",
        "lang": "ja",
        "schedule": {"window_start": "00:00:00", "window_end": "23:59:59"},
        "policy": {"max_attempts": 1, "ring_timeout_s": 45, "max_call_time_s": 300},
        "webhook_url": webhook,
    }
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    return cid


async def _upload(harness: Harness, cid: int, text: str) -> httpx.Response:
    return await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("予約.csv", text.encode(), "text/csv")}
    )


async def test_answers_reach_results_webhooks_and_counts_and_every_row_is_accounted_for(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    cid = await _campaign(harness, url)
    upload = await _upload(harness, cid, CSV)
    assert upload.status_code == 201, upload.text
    report = upload.json()
    assert (report["imported"], report["duplicate"], report["invalid"]) == (3, 1, 1)
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def done() -> dict[str, Any] | None:
            body: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
            return body if body["status"] == "completed" else None

        campaign = await wait_for(done, 60, "the campaign to complete")

        async def reported() -> bool:
            return "campaign.finished" in got.kinds()

        await wait_for(reported, 30, "campaign.finished")

        async def costed() -> list[dict[str, str]] | None:
            # Voxology bills after the end: the charges come from its logs a little later.
            answer = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
            rows = list(csv.DictReader(io.StringIO(answer.text)))
            return rows if all(r["cost"] for r in rows) else None

        await wait_for(costed, 30, "every call's cost")

    assert campaign["answers"] == {"confirmed": 1, "opted_out": 1}
    calls = harness.sandbox.voxology_calls.values()
    assert {(c.timeout, c.max_call_time) for c in calls} == {(45, 300)}
    results = await harness.api.get(f"/v1/campaigns/{cid}/results.csv")
    rows = list(csv.DictReader(io.StringIO(results.text)))
    header = next(csv.reader(io.StringIO(results.text)))
    assert header[:5] == ["import_id", "row", "氏名", "予約時刻", "メモ 欄"]
    by_name = {r["氏名"]: r for r in rows}
    assert by_name["山田"]["answer"] == "confirmed" and by_name["山田"]["メモ 欄"] == "初診"
    assert by_name["佐藤"]["answer"] == "opted_out"
    assert by_name["鈴木"]["answer"] == "" and by_name["鈴木"]["outcome"] == "answered"
    # The numbers read back exactly as uploaded, E.164, no quote in front.
    assert sorted(r["phone"] for r in rows) == ["+14155550100", "+14155550113", "+14155550193"]
    assert all(r["cost"] and float(r["cost"]) > 0 for r in rows)

    issues = await harness.api.get(f"{report['issues_url']}?bom=1")
    assert issues.content.startswith("\ufeff".encode())
    issue_rows = list(csv.DictReader(io.StringIO(issues.content.decode("utf-8-sig"))))
    accounted = sorted([int(r["row"]) for r in rows] + [int(r["row"]) for r in issue_rows])
    assert accounted == [2, 3, 4, 5, 6]  # every data row of the upload
    assert {r["row"]: r["reason"] for r in issue_rows}["5"] == "duplicate of row 2"

    bodies = [json.loads(r.body) for r in got.taken]
    final = {
        b["notification"]["to"]: b["notification"]["answer"]
        for b in bodies
        if b["type"] == "notification.final"
    }
    assert final == {"+14155550113": "confirmed", "+14155550193": "opted_out", "+14155550100": None}
    attempts = [b["attempt"]["answer"] for b in bodies if b["type"] == "attempt.finished"]
    assert sorted(a or "" for a in attempts) == ["", "confirmed", "opted_out"]
    [end] = [b["campaign"] for b in bodies if b["type"] == "campaign.finished"]
    assert end["answers"] == campaign["answers"] and end["counts"] == campaign["counts"]


async def test_a_template_naming_a_column_the_upload_lacks_names_every_missing_one(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    _, url = receiver
    cid = await _campaign(harness, url)
    upload = await _upload(harness, cid, "電話番号,名前\n+14155550113,山田\n")
    assert upload.status_code == 422
    assert "the template needs column(s) 予約時刻, 氏名" in upload.text
