"""Dialling against the sandbox over HTTP: every provider answer lands in the right state."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlmodel import select

from dialer.attempts import rounds
from dialer.attempts.events import NotPlaced
from dialer.db import session_scope
from dialer.dispatch.service import dial_notification, dial_notifications
from dialer.models import Attempt, Notification, utcnow
from dialer.providers.base import RateLimited
from dialer.vocabulary import AttemptStatus, Channel, NotificationStatus
from tests.support import Harness, wait_for


async def _attempts(harness: Harness, notification_id: int) -> list[Attempt]:
    async with session_scope(harness.runtime.sessions) as session:
        rows = await session.exec(select(Attempt).where(Attempt.notification_id == notification_id))
        return list(rows.all())


async def _notification(harness: Harness, notification_id: int) -> Notification:
    async with session_scope(harness.runtime.sessions) as session:
        found = await session.get(Notification, notification_id)
        assert found is not None
        return found


async def test_a_placed_call_is_recorded_then_finished_by_the_callback(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert final["status"] == "delivered"
    assert final["outcome"] == "answered"
    [attempt] = final["attempts"]
    call = harness.sandbox.calls[attempt["provider_id"]]
    assert call.tags == [f"attempt-{attempt['id']}"]
    assert attempt["provider"] == "xoxzo"
    assert attempt["provider_status"] == "ANSWERED"
    assert attempt["outcome"] == "answered"
    assert attempt["cost"] == call.cost > 0
    assert attempt["started_at"] and attempt["ended_at"]
    assert call.callback_deliveries == [200]


async def test_running_the_dial_job_again_never_dials_again(harness: Harness) -> None:
    body = await harness.notify("+819012345671")
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    await harness.wait_final(body["id"])
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    assert harness.calls_to("+819012345671") == 1


async def test_two_workers_racing_for_one_notification_dial_once(harness: Harness) -> None:
    body = await harness.notify("+819012345672")
    results = await asyncio.gather(
        *(dial_notification(harness.runtime, body["id"]) for _ in range(4))
    )
    assert sorted(results) == ["not due", "not due", "not due", "placed"]
    assert harness.calls_to("+819012345672") == 1


async def test_a_batch_dials_each_once_and_one_broken_contact_stops_no_other(
    harness: Harness,
) -> None:
    numbers = [f"+81901234{n:04d}" for n in range(12)]
    ids = [(await harness.notify(number))["id"] for number in numbers]
    async with session_scope(harness.runtime.sessions) as session:
        broken = await session.get(Notification, ids[3])
        assert broken is not None
        broken.policy = {**broken.policy, "window_start": "09:00+09:00", "window_end": "20:00"}
    assert await dial_notification(harness.runtime, ids[5]) == "placed"
    # The same batch twice at once, as arq may run a job twice: nobody is rung twice.
    first, second = await asyncio.gather(
        dial_notifications(harness.runtime, ids), dial_notifications(harness.runtime, ids)
    )
    both = Counter(first) + Counter(second)
    assert both["placed"] == 10
    assert both["failed: its data cannot be dialled"] == 1
    assert both["error"] == 0
    for number in numbers:
        assert harness.calls_to(number) == (0 if number == numbers[3] else 1)
    read = await harness.read(ids[3])
    assert read["status"] == "failed" and "cannot be dialled" in read["last_error"]
    for i in ids:
        if i != ids[3]:
            final = await harness.wait_final(i)  # the sandbox's outcome for the number
            assert len(final["attempts"]) == 1 and final["attempts"][0]["provider_id"]
    assert await dial_notifications(harness.runtime, ids) == {"not due": 12}


async def test_no_answer_is_retried_by_policy_then_fails(harness: Harness) -> None:
    body = await harness.notify("+819012345677", policy={"max_attempts": 2, "retry_delay_s": 0})
    await dial_notification(harness.runtime, body["id"])

    async def requeued() -> dict[str, Any] | None:
        read = await harness.read(body["id"])
        return read if read["status"] == "queued" else None

    read = await wait_for(requeued, 10, "the retry to be queued")
    assert read["attempts_made"] == 1 and read["outcome"] == "no_answer"
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert final["status"] == "failed"
    assert [a["outcome"] for a in final["attempts"]] == ["no_answer", "no_answer"]
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    assert harness.calls_to("+819012345677") == 2


async def test_a_429_is_not_an_attempt_and_waits_as_told(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    harness.sandbox.config.rate = 1
    assert harness.sandbox.throttle_wait() is None  # the one request this second is spent
    before = utcnow()
    assert await dial_notification(harness.runtime, body["id"]) == "RateLimited"
    notification = await _notification(harness, body["id"])
    [attempt] = await _attempts(harness, body["id"])
    assert notification.status == "queued"
    assert notification.attempts_made == 0
    assert notification.due_at >= before + timedelta(seconds=1)
    assert "RateLimited" in (notification.last_error or "")
    assert attempt.status == "not_sent" and attempt.provider_status == "HTTP 429"
    assert harness.sandbox.calls == {}


async def test_not_enough_credit_keeps_the_notification_and_its_attempts(harness: Harness) -> None:
    body = await harness.notify("+819012345670", policy={"max_attempts": 1})
    harness.sandbox.config.balance = 10
    assert await dial_notification(harness.runtime, body["id"]) == "InsufficientCredit"
    notification = await _notification(harness, body["id"])
    assert notification.status == "queued"
    assert notification.attempts_made == 0
    assert "required: 50" in (notification.last_error or "")
    harness.sandbox.config.balance = 1000
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.due_at = utcnow()
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert final["status"] == "delivered"
    assert [a["number"] for a in final["attempts"]] == [1, 2]
    assert [a["status"] for a in final["attempts"]] == ["not_sent", "finished"]


async def test_a_rejected_message_fails_for_good_with_the_field_error(harness: Harness) -> None:
    body = await harness.notify(
        "+819012345670",
        channel="playback",
        text=None,
        lang=None,
        recording_url="http://example.com/voice.mp3?version=2",
        policy={"max_attempts": 3},
    )
    assert await dial_notification(harness.runtime, body["id"]) == "Rejected"
    read = await harness.read(body["id"])
    assert read["status"] == "failed"
    assert read["outcome"] == "rejected"
    assert "recording_url: Enter a valid URL." in read["last_error"]
    assert read["attempts"][0]["provider_status"] == "HTTP 400"
    assert harness.sandbox.calls == {}


async def test_an_ambiguous_post_is_reconciled_by_the_callback_never_resent(
    harness: Harness,
) -> None:
    body = await harness.notify("+819012345673")
    harness.sandbox.config.post_5xx_rate = 1.0
    assert await dial_notification(harness.runtime, body["id"]) == "Ambiguous"
    [attempt] = await _attempts(harness, body["id"])
    assert attempt.provider_id is None
    final = await harness.wait_final(body["id"])
    assert final["status"] == "delivered"
    [attempt_out] = final["attempts"]
    assert attempt_out["provider_id"] in harness.sandbox.calls
    assert "Ambiguous" in attempt_out["error"]
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    assert harness.calls_to("+819012345673") == 1


async def test_wrong_credentials_are_surfaced_and_nothing_is_lost(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    harness.sandbox.config.auth_token = "rotated"
    assert await dial_notification(harness.runtime, body["id"]) == "AuthFailed"
    read = await harness.read(body["id"])
    assert read["status"] == "queued"
    assert read["last_error"] == "AuthFailed: Invalid sid/token"


async def test_an_expired_notification_is_not_dialled(harness: Harness) -> None:
    body = await harness.notify(
        "+819012345670", expires_at=(utcnow() + timedelta(seconds=1)).isoformat()
    )
    await asyncio.sleep(1.1)
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    read = await harness.read(body["id"])
    assert read["status"] == "expired"
    assert harness.sandbox.calls == {}


def test_a_certain_not_sent_settles_an_attempt_already_being_reconciled() -> None:
    # A dial that waited long for its slot can be taken for lost (reconciling) by the status
    # check; the provider's 429 then proves nothing rang, and the contact waits its turn again.
    notification = Notification(
        id=1,
        provider="xoxzo",
        channel=Channel.tts,
        to_number="+819012345670",
        from_number="+81312345678",
        status=NotificationStatus.dialing,
        attempts_made=1,
    )
    attempt = Attempt(id=1, notification_id=1, number=1, provider="xoxzo")
    attempt.status = AttemptStatus.reconciling
    now = utcnow()
    throttled = NotPlaced(RateLimited("throttled", retry_after=1.0))
    rounds.apply(rounds.Round(notification, [attempt], [attempt]), throttled, now, 60.0)
    assert attempt.status is AttemptStatus.not_sent and attempt.provider_status == "HTTP 429"
    assert notification.status is NotificationStatus.queued and notification.attempts_made == 0
    assert notification.due_at == now + timedelta(seconds=1)


async def test_a_batch_waits_for_room_among_its_workers_claimed_dials(harness: Harness) -> None:
    ids = [(await harness.notify(f"+81901234{n:04d}"))["id"] for n in range(20, 23)]
    room = harness.runtime.claimed
    held = await room.take(room.places)  # as if the worker had all it may claim in hand
    batch = asyncio.ensure_future(dial_notifications(harness.runtime, ids))
    await asyncio.sleep(0.3)
    assert not batch.done()
    assert [(await harness.read(i))["status"] for i in ids] == ["queued"] * 3  # none claimed
    room.give(held)
    assert await batch == {"placed": 3}
    assert room.free == room.places  # every place given back as its dial ended


async def test_a_request_whose_answer_would_come_after_its_job_ends_is_not_sent(
    harness: Harness,
) -> None:
    """A job cut off by its timeout mid-request leaves a call that may have rung (reconciled,
    likely `unknown`); so a request leaves only while the job can still hear its answer, and
    otherwise waits, uncounted, for another job."""
    body = await harness.notify("+819012345670")
    harness.runtime.settings = harness.settings.model_copy(
        update={"job_timeout_s": 3.0, "provider_timeout_s": 2.5}
    )
    assert await dial_notification(harness.runtime, body["id"]) == "paced"
    notification = await _notification(harness, body["id"])
    [attempt] = await _attempts(harness, body["id"])
    assert notification.status == "queued" and notification.attempts_made == 0
    assert attempt.status == "not_sent" and attempt.sent_at is None
    assert "needed to hear the answer" in (notification.last_error or "")
    assert harness.sandbox.calls == {}
    harness.runtime.settings = harness.settings.model_copy(
        update={"job_timeout_s": 8.0, "provider_timeout_s": 2.5}
    )
    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.due_at = utcnow()
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
