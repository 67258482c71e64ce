"""A Voxology request whose answer was lost is looked up, not sent again: found, it is followed
like any other; not found twice well after its timeout, it is given back and dialled once more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialer.attempts.fence import mark_sent
from dialer.db import session_scope
from dialer.dispatch.claims import claim_for_dialing
from dialer.dispatch.service import build_request, dial_notification, send
from dialer.models import Attempt, utcnow
from dialer.tracking.checks import check_attempt
from tests.support import Harness, wait_for

CALL: dict[str, Any] = {
    "channel": "voice_flow",
    "provider": "voxology",
    "from": "+14155550100",
    "text": "Your appointment is tomorrow at ten.",
    "lang": "en",
}
SMS: dict[str, Any] = {**CALL, "channel": "sms", "text": "See you tomorrow at ten.", "lang": None}


async def _lost(harness: Harness, to: str, fields: dict[str, Any], *, reached: bool) -> int:
    """An attempt cleared to leave whose answer never came, its timeout long past;
    `reached`: the provider got the request."""
    body = await harness.notify(to, **fields)
    async with session_scope(harness.runtime.sessions) as session:
        claimed = await claim_for_dialing(session, body["id"], utcnow(), harness.settings)
        assert claimed is not None
        notification, [attempt] = claimed
        request = build_request(harness.settings, notification, attempt)
        assert attempt.id is not None
        attempt_id = attempt.id
    async with session_scope(harness.runtime.sessions) as session:
        await mark_sent(session, [attempt_id], utcnow(), 120.0)
    if reached:
        await send(harness.runtime.providers["voxology"], request)
    async with session_scope(harness.runtime.sessions) as session:
        stored = await session.get(Attempt, attempt_id)
        assert stored is not None and stored.sent_at is not None
        back = timedelta(
            seconds=harness.settings.provider_timeout_s + harness.settings.ambiguous_after_s
        )
        stored.sent_at -= back
        stored.created_at -= back
    return attempt_id


async def _attempt(harness: Harness, attempt_id: int) -> Attempt:
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        return attempt


async def test_a_call_the_provider_never_got_is_given_back_after_two_searches(
    harness: Harness,
) -> None:
    attempt_id = await _lost(harness, "+14155550113", CALL, reached=False)
    assert await check_attempt(harness.runtime, attempt_id) == "not found yet"
    assert await check_attempt(harness.runtime, attempt_id) == "unheard"
    attempt = await _attempt(harness, attempt_id)
    read = await harness.read(attempt.notification_id)
    assert (read["status"], read["attempts_made"]) == ("queued", 0)
    assert read["attempts"][0]["provider_status"] == "Unheard"
    assert read["attempts"][0]["sent_at"] is not None
    assert harness.sandbox.voxology_calls == {}
    assert await dial_notification(harness.runtime, attempt.notification_id) == "placed"
    final = await harness.wait_final(attempt.notification_id)
    assert (final["outcome"], final["attempts_made"]) == ("answered", 1)
    assert len(harness.sandbox.voxology_calls) == 1


async def test_a_live_call_is_found_by_its_session_data_and_never_dialled_again(
    harness: Harness,
) -> None:
    harness.sandbox.config.time_scale = 1000.0  # rings for hours
    attempt_id = await _lost(harness, "+14155550113", CALL, reached=True)
    assert (await check_attempt(harness.runtime, attempt_id)).startswith("found")
    [call] = harness.sandbox.voxology_calls.values()
    attempt = await _attempt(harness, attempt_id)
    assert attempt.provider_id == call.id
    assert attempt.status.value == "in_progress"


async def test_a_message_is_found_by_its_tag(harness: Harness) -> None:
    harness.sandbox.config.time_scale = 1000.0
    attempt_id = await _lost(harness, "+14155550113", SMS, reached=True)
    assert (await check_attempt(harness.runtime, attempt_id)).startswith("found")
    [message] = harness.sandbox.voxology_messages.values()
    attempt = await _attempt(harness, attempt_id)
    assert attempt.provider_id == message.message_id


async def test_an_ended_call_is_found_in_the_call_logs(harness: Harness) -> None:
    harness.sandbox.config.time_scale = 0.25  # a second of ringing, then no answer
    attempt_id = await _lost(harness, "+14155550116", CALL, reached=True)
    [call] = harness.sandbox.voxology_calls.values()
    call.callback = None  # its callbacks lost too: only the logs know how it ended

    async def ended() -> bool | None:
        return True if call.end_time is not None else None

    await wait_for(ended, 10, "the call ended")
    result = await check_attempt(harness.runtime, attempt_id)
    assert result == "found: final", result
    attempt = await _attempt(harness, attempt_id)
    assert attempt.provider_id == call.id
    assert attempt.outcome is not None and attempt.outcome.value == "no_answer"
