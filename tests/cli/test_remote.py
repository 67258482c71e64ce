"""Every operation of the API from the shell: `dialer campaign|notify|dnc|webhooks ...`, run as
real commands against a real web process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack


# The command line and scripts go through the API: what they store is tested on both databases
# where it is written.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


async def _dialer(
    stack: Stack, *args: str, key: str | None = None
) -> subprocess.CompletedProcess[str]:
    api_key = key or stack.api.headers["Authorization"].split()[1]
    env = {**os.environ, "DIALER_API_URL": str(stack.api.base_url), "DIALER_API_KEY": api_key}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "dialer", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


async def _json(stack: Stack, *args: str) -> Any:
    done = await _dialer(stack, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_a_campaign_from_the_shell(stack: Stack, tmp_path: Path) -> None:
    made = await _json(
        stack, "campaign", "create", "Clinic", "--channel", "tts", "--from", "+81312345678",
        "--template", "Hello {{ name }}", "--lang", "en",
    )  # fmt: skip
    cid = str(made["id"])
    assert made["status"] == "draft"
    listed = await _dialer(stack, "campaign", "list", "--status", "draft")
    assert listed.returncode == 0 and f"{cid}  Clinic  xoxzo tts  draft" in listed.stdout
    upload = await stack.api.post(
        f"/v1/campaigns/{cid}/contacts",
        files={"file": ("c.csv", b"phone,name\n090-1234-5670,Aiko\n", "text/csv")},
    )
    assert upload.status_code == 201
    estimate = await _json(stack, "campaign", "estimate", cid)
    assert estimate["contacts_to_dial"] == 1 and estimate["start_allowed"]
    assert (await _json(stack, "campaign", "start", cid))["status"] == "running"
    paused = await _dialer(stack, "campaign", "pause", cid, "--reason", "lunch")
    assert paused.returncode == 0 and "paused (lunch)" in paused.stdout
    assert (await _json(stack, "campaign", "resume", cid))["status"] == "running"
    assert (await _json(stack, "campaign", "cancel", cid))["status"] == "canceled"
    ended = await _dialer(stack, "campaign", "resume", cid)
    assert ended.returncode == 1 and "409: a canceled campaign has ended" in ended.stderr
    shown = await _dialer(stack, "campaign", "show", cid)
    assert shown.returncode == 0 and "canceled" in shown.stdout
    out = tmp_path / "results.csv"
    saved = await _dialer(stack, "campaign", "results", cid, "-o", str(out))
    assert saved.returncode == 0
    assert out.read_text().splitlines()[0].startswith("import_id,row,")


async def test_notify_waits_for_the_final_status(stack: Stack) -> None:
    stack.start_worker()
    done = await _dialer(
        stack, "notify", "090-1234-5670", "--from", "+81312345678", "--text", "Hi",
        "--lang", "en", "--wait", "60",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "xoxzo tts to +819012345670: delivered, answered" in done.stdout


async def test_the_do_not_contact_list_from_the_shell(stack: Stack, tmp_path: Path) -> None:
    added = await _json(stack, "dnc", "add", "090-1234-5670", "--reason", "asked")
    assert added["number"] == "+819012345670"
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("number\n090-1234-5671\nnot a number\n+819012345672\n")
    imported = await _dialer(stack, "dnc", "import", str(numbers))
    assert imported.returncode == 0 and "2 on the list, 1 refused" in imported.stdout
    assert "line 3: 'not a number'" in imported.stderr
    exported = await _dialer(stack, "dnc", "export")
    rows = exported.stdout.splitlines()
    assert rows[0] == "number,source,reason,created_at" and len(rows) == 4
    removed = await _dialer(stack, "dnc", "remove", "+819012345670")
    assert removed.returncode == 0
    listed = await _json(stack, "dnc", "list")
    assert sorted(e["number"] for e in listed) == ["+819012345671", "+819012345672"]


async def test_webhooks_from_the_shell(stack: Stack) -> None:
    endpoint = await _json(stack, "webhooks", "add", "http://127.0.0.1:9/events")
    assert endpoint["secret"]
    listed = await _dialer(stack, "webhooks", "list")
    assert listed.returncode == 0 and "http://127.0.0.1:9/events" in listed.stdout
    events = await _json(stack, "webhooks", "events", str(endpoint["id"]))
    assert events == []
    missing = await _dialer(stack, "webhooks", "resend", "999999")
    assert missing.returncode == 1 and "404: no webhook event 999999" in missing.stderr


async def test_a_wrong_key_is_the_apis_own_refusal(stack: Stack) -> None:
    done = await _dialer(stack, "campaign", "list", key="not-a-key")
    assert done.returncode == 1 and done.stderr.startswith("Error: 401: ")
    assert "Traceback" not in done.stderr


async def test_uploads_and_their_issues_from_the_shell(stack: Stack, tmp_path: Path) -> None:
    made = await _json(
        stack, "campaign", "create", "Upload", "--channel", "tts", "--from", "+81312345678",
        "--template", "Hi {{ name }}", "--lang", "en",
    )  # fmt: skip
    cid = str(made["id"])
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("phone,name\n090-1234-5670,Aiko\n12,Shorty\n")
    report = await _json(stack, "campaign", "upload", cid, str(csv_file))
    assert (report["imported"], report["invalid"]) == (1, 1)
    listed = await _dialer(stack, "campaign", "issues", cid, str(report["import_id"]))
    assert listed.returncode == 0 and listed.stdout.splitlines()[0] == "row,phone,reason"
    assert listed.stdout.splitlines()[1].startswith("3,12,invalid phone number")
    json_file = tmp_path / "contacts.json"
    json_file.write_text(
        json.dumps({"contacts": [{"phone": "090-1234-5671", "variables": {"name": "B"}}]})
    )
    assert (await _json(stack, "campaign", "upload", cid, str(json_file)))["imported"] == 1
    accounts = await _json(stack, "providers")
    assert {a["name"] for a in accounts} >= {"xoxzo"}


async def test_notifications_and_reminders_from_the_shell(stack: Stack) -> None:
    endpoint = await _json(stack, "webhooks", "add", "http://127.0.0.1:9/events")
    later = await _json(
        stack, "notify", "090-1234-5670", "--from", "+81312345678", "--text", "Hi",
        "--lang", "en", "--send-at", "2099-01-01T10:00:00+09:00",
        "--webhook-url", "http://127.0.0.1:9/events",
    )  # fmt: skip
    nid = str(later["id"])
    listed = await _json(stack, "notification", "list", "--status", "queued")
    assert [n["id"] for n in listed] == [later["id"]]
    moved = await _json(stack, "notification", "reschedule", nid, "2099-01-02T10:00:00+09:00")
    assert moved["due_at"].startswith("2099-01-02T01:00:00")
    assert (await _json(stack, "notification", "cancel", nid))["status"] == "canceled"
    shown = await _dialer(stack, "notification", "show", nid)
    assert shown.returncode == 0 and "canceled" in shown.stdout
    [event] = await _json(stack, "webhooks", "events", str(endpoint["id"]))
    assert event["kind"] == "notification.final"
    one = await _json(stack, "webhooks", "event", str(event["id"]))
    assert one["id"] == event["id"] and "deliveries" in one
    again = await _json(stack, "webhooks", "show", str(endpoint["id"]))
    assert again["secret"] == endpoint["secret"]
    reminders = await _json(
        stack, "remind", "090-1234-5671", "--appointment-at", "2099-03-01T15:00:00",
        "--before", "1d", "--before", "2h", "--from", "+81312345678", "--text", "See you",
        "--lang", "en",
    )  # fmt: skip
    assert len(reminders) == 2 and {r["status"] for r in reminders} == {"queued"}


async def test_history_and_number_actions_from_the_shell(stack: Stack) -> None:
    await _json(stack, "dnc", "add", "090-1234-5670", "--reason", "asked")
    await _dialer(stack, "dnc", "remove", "090-1234-5670")
    changes = await _json(stack, "dnc", "history", "+819012345670")
    assert [c["change"] for c in changes] == ["added", "removed"]
    number = "+14155550100"
    assert (await _json(stack, "numbers", "action", number))["action"] is None
    said = 'say en "We are closed"'
    assert (await _json(stack, "numbers", "action", number, said))["action"] == said
    cleared = await _dialer(stack, "numbers", "action", number, "--clear")
    assert cleared.returncode == 0 and "(the service default)" in cleared.stdout
