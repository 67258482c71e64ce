"""Conferences. Xoxzo: one request rings every participant; each call is an attempt of its own,
followed through the conference status endpoint. Voxology: one call per participant, each
answered with a CONFERENCE flow of the same name."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.attempts import rounds
from dialer.attempts.events import NotPlaced
from dialer.dispatch.service import dial_notification
from dialer.models import Attempt, Notification, utcnow
from dialer.providers.base import RateLimited
from dialer.sandbox.voxology_calls import VoxologyCall
from dialer.serve import running_worker
from dialer.vocabulary import AttemptStatus, Channel, NotificationStatus
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
        ({"provider": "voxology", "from": "DIALER"}, "invalid phone number"),
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


async def test_a_voxology_conference_calls_each_participant_into_one_named_conference(
    harness: Harness,
) -> None:
    people = ["+14155550101", "+14155550102", "+14155550103"]
    body = await harness.notify(
        people[0],
        **{**CONFERENCE, "provider": "voxology", "from": "+14155550100", "lang": None},
        participants=people[1:],
    )
    assert body["lang"] == "en"
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == ("delivered", "answered")
    attempts = final["attempts"]
    assert [a["recipient"] for a in attempts] == people
    calls: list[VoxologyCall] = [harness.sandbox.voxology_calls[a["provider_id"]] for a in attempts]
    assert [call.no for call in calls] == people
    assert {call.conference for call in calls} == {f"dialer-{body['id']}"}
    assert all(call.heard == ["Connecting you to your conference call."] for call in calls)
    assert [call.session_data["attempt_id"] for call in calls] == [a["id"] for a in attempts]


async def test_a_voxology_conference_one_person_missed_fails_with_their_outcome(
    harness: Harness,
) -> None:
    body = await harness.notify(
        "+14155550101",
        **{**CONFERENCE, "provider": "voxology", "from": "+14155550100"},
        participants=["+14155550107"],
    )
    await dial_notification(harness.runtime, body["id"])
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == ("failed", "busy")
    assert [a["outcome"] for a in final["attempts"]] == ["answered", "busy"]


def _round(legs: int) -> tuple[Notification, list[Attempt]]:
    notification = Notification(
        id=1,
        provider="voxology",
        channel=Channel.conference,
        to_number="+14155550101",
        from_number="+14155550100",
        participants=["+14155550102", "+14155550103"][: legs - 1],
        status=NotificationStatus.dialing,
        attempts_made=1,
    )
    attempts = [
        Attempt(
            id=i, notification_id=1, number=i, provider="voxology", status=AttemptStatus.dialing
        )
        for i in range(1, legs + 1)
    ]
    return notification, attempts


def test_a_participant_not_sent_while_another_rings_is_failed_not_requeued() -> None:
    notification, (first, second) = _round(2)
    first.status, first.sent_at = AttemptStatus.in_progress, utcnow()
    notification.status = NotificationStatus.in_progress
    slow = NotPlaced(RateLimited("slow down", retry_after=5))
    rounds.apply(rounds.Round(notification, [second], [first, second]), slow, utcnow(), 1.0)
    assert (second.status, second.outcome) == (AttemptStatus.finished, "failed")
    assert second.error is not None and second.error.startswith("not sent: RateLimited")
    assert (notification.status, notification.attempts_made) == (NotificationStatus.in_progress, 1)


def test_a_round_nobody_was_rung_in_waits_whole_in_the_queue() -> None:
    notification, attempts = _round(3)
    for attempt in attempts:
        slow = NotPlaced(RateLimited("slow down", retry_after=5))
        rounds.apply(rounds.Round(notification, [attempt], attempts), slow, utcnow(), 1.0)
    assert [a.status for a in attempts] == [AttemptStatus.not_sent] * 3
    assert (notification.status, notification.attempts_made) == (NotificationStatus.queued, 0)
