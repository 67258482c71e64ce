"""One table of new notifications run through both paths that make them: the API's
POST /v1/notifications (dialer.notifications.service) and a campaign upload (the bulk importer's
SQL). Both must give the same first status, suppression reason, reading of a local send time and
stored moment (dialer.creation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import col, select

from dialer.creation import SUPPRESSED_REASON
from dialer.db import read_scope, session_scope
from dialer.models import DoNotContact, ImportIssue, Notification
from tests.support import Harness

BLOCKED = "+819012340002"


@dataclass(frozen=True)
class Case:
    number: str
    send_at: str | None
    status: str | None  # None: refused, with `problem` in its reason
    due_at: datetime | None = None
    problem: str | None = None


CASES = [
    Case("+819012340001", None, "queued"),
    Case(BLOCKED, None, "suppressed"),
    Case("+819012340003", "2027-01-10T09:30", "queued", datetime(2027, 1, 10, 0, 30, tzinfo=UTC)),
    Case(
        "+819012340004",
        "2027-01-10T09:30+02:00",
        "queued",
        datetime(2027, 1, 10, 7, 30, tzinfo=UTC),
    ),
    Case("+12025550123", "2027-01-10T09:30", "queued", datetime(2027, 1, 10, 14, 30, tzinfo=UTC)),
    Case("+18002752273", "2027-01-10T09:30", None, problem="a local time needs one time zone"),
]


async def _by_api(harness: Harness, case: Case) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": "tts", "to": case.number, "from": "+81312345678"}
    body |= {"text": "Hello", "lang": "en"}
    if case.send_at is not None:
        body["send_at"] = case.send_at
    answer = await harness.api.post("/v1/notifications", json=body)
    if answer.status_code == 422:
        return {"status": None, "problem": answer.json()["detail"][0]["msg"]}
    assert answer.status_code == 202, answer.text
    async with read_scope(harness.runtime.sessions) as session:
        found = await session.get(Notification, answer.json()["id"])
    assert found is not None
    return {"status": found.status, "reason": found.last_error, "due_at": found.due_at}


async def _by_upload(harness: Harness) -> dict[str, dict[str, Any]]:
    campaign = {"name": "rules", "channel": "tts", "from": "+81312345678", "template": "Hello"}
    created = await harness.api.post("/v1/campaigns", json=campaign)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    lines = "".join(f"{c.number},{c.send_at or ''}\n" for c in CASES)
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts",
        files={"file": ("c.csv", f"phone,send_at\n{lines}".encode(), "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    import_id = upload.json()["import_id"]
    results: dict[str, dict[str, Any]] = {}
    async with read_scope(harness.runtime.sessions) as session:
        rows = await session.exec(select(Notification).where(Notification.campaign_id == cid))
        for n in rows.all():
            results[n.to_number] = {"status": n.status, "reason": n.last_error, "due_at": n.due_at}
        issues = await session.exec(
            select(ImportIssue).where(
                col(ImportIssue.import_id) == import_id,
                col(ImportIssue.reason) != SUPPRESSED_REASON,
            )
        )
        for issue in issues.all():
            results[CASES[issue.row_number - 2].number] = {"status": None, "problem": issue.reason}
    return results


@pytest.fixture
async def blocked(harness: Harness) -> Harness:
    async with session_scope(harness.runtime.sessions) as session:
        session.add(DoNotContact(number=BLOCKED, scope="global", source="api"))
    return harness


async def test_the_api_and_an_upload_make_notifications_by_one_set_of_rules(
    blocked: Harness,
) -> None:
    uploaded = await _by_upload(blocked)
    for case in CASES:
        for made in (await _by_api(blocked, case), uploaded[case.number]):
            assert made["status"] == case.status, (case, made)
            if case.status is None:
                assert case.problem is not None and case.problem in made["problem"], made
                continue
            if case.status == "suppressed":
                assert made["reason"] == SUPPRESSED_REASON
            if case.due_at is not None:
                assert made["due_at"] == case.due_at
