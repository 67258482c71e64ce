"""Voxology calls through the whole path: our dispatch dials, the sandbox platform rings and asks
our call-flow endpoint what to do, and the flow's callbacks bring each attempt to its end."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.dispatch.service import dial_notification
from dialer.sandbox.voxology_calls import VoxologyCall
from tests.support import Harness

CALLER_ID = "+14155550100"
FLOW: dict[str, Any] = {
    "channel": "voice_flow",
    "provider": "voxology",
    "from": CALLER_ID,
    "text": "Your appointment is tomorrow at ten.",
    "lang": "en",
}


async def _call_through(harness: Harness, to: str, **fields: Any) -> tuple[dict[str, Any], Any]:
    body = await harness.notify(to, **{**FLOW, **fields})
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    [attempt] = final["attempts"]
    call: VoxologyCall = harness.sandbox.voxology_calls[attempt["provider_id"]]
    return final, call


async def test_a_person_who_presses_1_is_recorded_as_confirmed(harness: Harness) -> None:
    final, call = await _call_through(harness, "+14155550113")
    assert (final["status"], final["outcome"]) == ("delivered", "answered")
    [attempt] = final["attempts"]
    assert attempt["answer"] == "confirmed"
    assert attempt["provider_status"] == "completed"
    assert call.heard[0] == FLOW["text"]
    assert call.heard[-1].startswith("Thank you. Your confirmation has been recorded.")
    assert [kind for kind, _ in call.callbacks] == ["init_call", "live_call", "end_call"]
    assert all(code == 200 for _, code in call.callbacks)
    assert call.session_data["attempt_id"] == attempt["id"]
    config = harness.sandbox.voxology_configs[CALLER_ID]
    assert config["callback"]["url"] == f"{harness.settings.public_url}/v1/flows/voxology"


async def test_pressing_9_opts_out_and_later_notifications_are_suppressed(
    harness: Harness,
) -> None:
    final, call = await _call_through(harness, "+14155550193")
    assert final["attempts"][0]["answer"] == "opted_out"
    assert call.heard[-1] == "You will not receive these calls again. Goodbye."
    listed = await harness.api.get("/v1/do-not-contact")
    [entry] = [e for e in listed.json() if e["number"] == "+14155550193"]
    assert entry["source"] == "keypress"
    later = await harness.notify("+14155550193", **FLOW)
    assert later["status"] == "suppressed"
    assert len([c for c in harness.sandbox.voxology_calls.values() if c.no == "+14155550193"]) == 1


async def test_a_person_who_presses_nothing_is_answered_without_an_answer(
    harness: Harness,
) -> None:
    final, call = await _call_through(harness, "+14155550123")
    assert final["outcome"] == "answered"
    assert final["attempts"][0]["answer"] is None
    assert call.heard[-1] == "Goodbye."


async def test_voicemail_gets_the_message_left(harness: Harness) -> None:
    final, call = await _call_through(harness, "+14155550125")
    assert (final["status"], final["outcome"]) == ("delivered", "voicemail")
    assert call.detection == "voicemail"
    assert call.heard == [FLOW["text"]]
    assert [kind for kind, _ in call.callbacks] == ["init_call", "end_call"]


@pytest.mark.parametrize(
    ("to", "outcome", "raw"),
    [
        ("+14155550126", "no_answer", "no-answer"),
        ("+14155550127", "busy", "busy"),
        ("+14155550128", "failed", "failed"),
    ],
)
async def test_calls_nobody_answers_fail_by_their_failed_call(
    harness: Harness, to: str, outcome: str, raw: str
) -> None:
    final, call = await _call_through(harness, to)
    assert (final["status"], final["outcome"]) == ("failed", outcome)
    assert final["attempts"][0]["provider_status"] == raw
    assert [kind for kind, _ in call.callbacks] == ["failed_call"]
    assert call.heard == []


async def test_tts_on_voxology_is_a_say_flow_without_detection(harness: Harness) -> None:
    final, call = await _call_through(
        harness, "+14155550103", channel="tts", text="Your order has shipped."
    )
    assert final["outcome"] == "answered"
    assert call.heard == ["Your order has shipped."]
    assert [kind for kind, _ in call.callbacks] == ["init_call", "end_call"]


async def test_playback_on_voxology_plays_the_recording(harness: Harness) -> None:
    url = "https://example.com/reminder.mp3"
    final, call = await _call_through(
        harness, "+14155550104", channel="playback", text=None, lang=None, recording_url=url
    )
    assert final["outcome"] == "answered"
    assert call.heard == [url]


async def test_a_voice_flow_may_play_a_recording(harness: Harness) -> None:
    url = "https://example.com/reminder.mp3"
    final, call = await _call_through(
        harness, "+14155550114", text=None, lang=None, recording_url=url
    )
    assert final["attempts"][0]["answer"] == "confirmed"
    assert call.heard[0] == url


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"text": None, "lang": None}, "takes text or recording_url, exactly one"),
        ({"recording_url": "https://example.com/a.mp3"}, "exactly one"),
        ({"provider": "xoxzo"}, "has no channel 'voice_flow'"),
    ],
)
async def test_a_bad_voice_flow_request_is_refused(
    harness: Harness, change: dict[str, Any], words: str
) -> None:
    body = {"to": "+14155550113", **FLOW, **change}
    answer = await harness.api.post(
        "/v1/notifications", json={k: v for k, v in body.items() if v is not None}
    )
    assert answer.status_code == 422
    assert words in answer.text


async def test_retried_on_voicemail_the_machine_is_hung_up_on_and_called_again(
    harness: Harness,
) -> None:
    policy = {"max_attempts": 2, "retry_on": ["voicemail"], "retry_delay_s": 0}
    body = await harness.notify("+14155550125", **FLOW, policy=policy)
    assert await dial_notification(harness.runtime, body["id"]) == "placed"

    async def retried() -> dict[str, Any] | None:
        now = await harness.read(body["id"])
        return now if now["status"] == "queued" else None

    from tests.support import wait_for

    queued = await wait_for(retried, 30, "the voicemail retry")
    [attempt] = queued["attempts"]
    assert attempt["outcome"] == "voicemail"
    call: VoxologyCall = harness.sandbox.voxology_calls[attempt["provider_id"]]
    assert call.heard == []  # nothing left on the machine
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"], final["attempts_made"]) == (
        "failed",
        "voicemail",
        2,
    )
