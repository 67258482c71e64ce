"""Xoxzo simple conferences: one request rings every participant; each call is an attempt of its
own, followed through the conference status endpoint to its end."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.dispatch.service import dial_notification
from dialer.serve import running_worker
from tests.support import Harness

CONFERENCE: dict[str, Any] = {
    "channel": "conference",
    "from": "+81312345678",
    "text": None,
    "lang": "en",
}


async def _conference(harness: Harness, to: str, *others: str) -> dict[str, Any]:
    return await harness.notify(to, **CONFERENCE, participants=list(others))


async def test_three_participants_each_get_an_attempt_and_the_conference_is_delivered(
    harness: Harness,
) -> None:
    people = ["+819012345670", "+819012345671", "+819012345672"]
    body = await _conference(harness, *people)
    assert body["participants"] == people[1:]
    async with running_worker(harness.settings, harness.redis_url):
        final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == ("delivered", "answered")
    assert final["attempts_made"] == 1
    attempts = final["attempts"]
    assert [a["recipient"] for a in attempts] == people
    assert all(a["outcome"] == "answered" and a["status"] == "finished" for a in attempts)
    [conference] = harness.sandbox.conferences.values()
    assert {a["conference_id"] for a in attempts} == {conference.conferenceid}
    assert conference.lang == "en"
    calls = {call.recipient: call.callid for call in conference.calls}
    assert {a["recipient"]: a["provider_id"] for a in attempts} == calls
    assert all(a["cost"] and a["cost"] > 0 for a in attempts)
    assert len(harness.sandbox.calls) == 3


async def test_a_conference_nobody_joins_fails_with_the_missing_person_s_outcome(
    harness: Harness,
) -> None:
    body = await _conference(harness, "+819012345670", "+819012345677")
    async with running_worker(harness.settings, harness.redis_url):
        final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == ("failed", "no_answer")
    assert [a["outcome"] for a in final["attempts"]] == ["answered", "no_answer"]


async def test_a_conference_with_someone_on_the_do_not_contact_list_is_suppressed(
    harness: Harness,
) -> None:
    added = await harness.api.post("/v1/do-not-contact", json={"number": "+819012345672"})
    assert added.status_code in (200, 201), added.text
    body = await _conference(harness, "+819012345670", "+819012345672")
    assert body["status"] == "suppressed"
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    assert harness.sandbox.calls == {}


async def test_no_credit_sends_no_conference_and_costs_no_attempt(harness: Harness) -> None:
    harness.sandbox.config.balance = 0
    body = await _conference(harness, "+819012345670", "+819012345671", "+819012345672")
    assert await dial_notification(harness.runtime, body["id"]) == "InsufficientCredit"
    after = await harness.read(body["id"])
    assert (after["status"], after["attempts_made"]) == ("queued", 0)
    assert [a["status"] for a in after["attempts"]] == ["not_sent"] * 3
    assert harness.sandbox.calls == {}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"participants": None}, "participants is required for channel conference"),
        ({"participants": []}, "at least 1 item"),
        ({"participants": ["+819012345671"] * 3}, "at most 2 items"),
        ({"participants": ["+819012345670"]}, "numbers repeat"),
        ({"participants": ["12"]}, "invalid phone number"),
        ({"text": "Hello"}, "plays only its guidance"),
        ({"policy": {"max_attempts": 2}}, "dialled once"),
        ({"provider": "voxology", "from": "+14155550100"}, "has no channel 'conference'"),
        ({"channel": "tts", "text": "Hi"}, "participants is for channel conference, not tts"),
    ],
)
async def test_a_bad_conference_request_is_refused_naming_the_field(
    harness: Harness, change: dict[str, Any], words: str
) -> None:
    body = {"to": "+819012345670", **CONFERENCE, "participants": ["+819012345671"], **change}
    answer = await harness.api.post(
        "/v1/notifications", json={k: v for k, v in body.items() if v is not None}
    )
    assert answer.status_code == 422, answer.text
    assert words in answer.text
