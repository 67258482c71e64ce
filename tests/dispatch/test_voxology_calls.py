"""Voxology calls through the whole path: our dispatch dials, the sandbox platform rings and asks
our call-flow endpoint what to do, and the flow's callbacks bring each attempt to its end."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.dispatch.service import dial_notification
from dialer.sandbox.voxology_calls import VoxologyCall
from tests.support import Harness, wait_for

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


async def _poll_until_final(harness: Harness, notification_id: int) -> dict[str, Any]:
    """The call's own callbacks cannot reach us: the status check reads the call log."""
    from dialer.tracking.checks import check_attempt
    from tests.support import FINAL

    async def final() -> dict[str, Any] | None:
        now = await harness.read(notification_id)
        for attempt in now["attempts"]:
            if attempt["status"] not in {"finished", "not_sent"}:
                await check_attempt(harness.runtime, attempt["id"])
        now = await harness.read(notification_id)
        return now if now["status"] in FINAL else None

    return await wait_for(final, 30, "the call's end, by polling", interval=0.3)


async def test_a_flow_refused_for_a_wrong_secret_fails_with_the_error_code(
    harness: Harness,
) -> None:
    body = await harness.notify("+14155550113", **FLOW)
    # Place once so that the caller ID is configured, then break its secret.
    await harness.runtime.providers["voxology"]._ensure_configured(CALLER_ID)  # type: ignore[attr-defined]
    config = harness.sandbox.voxology_configs[CALLER_ID]
    for target in ("callback", "callback_failover"):
        config[target] = {**config[target], "headers": {"X-Dialer-Flow-Secret": "wrong"}}
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await _poll_until_final(harness, body["id"])
    assert (final["status"], final["outcome"]) == ("failed", "failed")
    assert final["last_error"].startswith("voxology error 400911: ")
    [attempt] = final["attempts"]
    assert attempt["outcome"] == "failed" and attempt["error"] == final["last_error"]


async def test_a_flow_with_an_invalid_action_fails_with_the_error_code(harness: Harness) -> None:
    from fastapi import FastAPI

    from dialer.serve import free_ports, running_server

    broken = FastAPI()

    @broken.post("/flow")
    async def flow() -> dict[str, Any]:
        return {"actions": [{"type": "SAY", "params": {}}]}

    [port] = free_ports(1)
    async with running_server(broken, "127.0.0.1", port):
        body = await harness.notify("+14155550100", **FLOW)
        await harness.runtime.providers["voxology"]._ensure_configured(CALLER_ID)  # type: ignore[attr-defined]
        config = harness.sandbox.voxology_configs[CALLER_ID]
        for target in ("callback", "callback_failover"):
            config[target] = {**config[target], "url": f"http://127.0.0.1:{port}/flow"}
        assert await dial_notification(harness.runtime, body["id"]) == "placed"
        final = await _poll_until_final(harness, body["id"])
    assert (final["status"], final["outcome"]) == ("failed", "failed")
    assert final["last_error"].startswith("voxology error 400913: ")


async def test_a_flow_that_cannot_be_rendered_is_refused_before_anyone_is_rung(
    harness: Harness,
) -> None:
    body = await harness.notify("+14155550113", **FLOW)
    # A row the API would refuse, as one stored before a rule existed.
    from dialer.db import session_scope
    from dialer.models import Notification

    async with session_scope(harness.runtime.sessions) as session:
        row = await session.get(Notification, body["id"])
        assert row is not None
        row.text = ""
    assert (
        await dial_notification(harness.runtime, body["id"]) == "failed: its data cannot be dialled"
    )
    final = await harness.read(body["id"])
    assert final["status"] == "failed" and final["attempts"] == []
    assert "steps.message.say" in final["last_error"]
    assert harness.sandbox.voxology_calls == {}


async def test_running_out_of_money_mid_call_pauses_the_campaign(harness: Harness) -> None:
    campaign = {
        "name": "reminders",
        "provider": "voxology",
        "channel": "voice_flow",
        "from": CALLER_ID,
        "template": "Hello {{ name }}.",
        "lang": "en",
        "schedule": {"window_start": "00:00:00", "window_end": "23:59:59"},
    }
    created = await harness.api.post("/v1/campaigns", json=campaign)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts",
        files={"file": ("c.csv", b"phone,name\n+14155550100,Aiko\n", "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    [contact] = await _contact_ids(harness, cid)
    harness.sandbox.config.time_scale = 0.5  # rings 2 s: time to spend the balance
    assert await dial_notification(harness.runtime, contact) == "placed"
    harness.sandbox.config.voxology_balance = 0.0  # spent elsewhere while this one rang

    async def attempt_over() -> dict[str, Any] | None:
        now = await harness.read(contact)
        return now if now["attempts"][0]["status"] == "finished" else None

    now = await wait_for(attempt_over, 30, "the call to end")
    assert now["attempts"][0]["outcome"] == "failed"
    assert now["last_error"].startswith("voxology error 2001")
    # Tried again by its policy once the credit watcher sees the balance back, not before.
    assert now["status"] == "held"
    paused = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    assert paused["status"] == "paused"
    assert paused["pause_reason"].startswith("insufficient credit: voxology error 2001")


async def _contact_ids(harness: Harness, cid: int) -> list[int]:
    from sqlmodel import col, select

    from dialer.db import session_scope
    from dialer.models import Notification

    async with session_scope(harness.runtime.sessions) as session:
        found = await session.exec(
            select(Notification.id).where(col(Notification.campaign_id) == cid)
        )
        return [i for i in found.all() if i is not None]


async def test_a_caller_id_configured_for_another_endpoint_is_not_taken_over(
    harness: Harness,
) -> None:
    elsewhere = {"url": "https://other.example/flow", "method": "POST"}
    harness.sandbox.voxology_configs[CALLER_ID] = {"no": CALLER_ID, "callback": elsewhere}
    body = await harness.notify("+14155550113", **FLOW)
    assert await dial_notification(harness.runtime, body["id"]) == "Misconfigured"
    now = await harness.read(body["id"])
    assert now["status"] == "queued" and "other.example" in now["last_error"]
    assert "DIALER_VOXOLOGY_TAKE_OVER_NUMBERS" in now["last_error"]
    assert harness.sandbox.voxology_configs[CALLER_ID]["callback"] == elsewhere
    assert harness.sandbox.voxology_calls == {}


async def test_calls_carry_a_ring_time_and_a_call_length(harness: Harness) -> None:
    policy = {"ring_timeout_s": 25, "max_call_time_s": 120}
    final, call = await _call_through(harness, "+14155550123", policy=policy)
    assert final["outcome"] == "answered"
    assert (call.timeout, call.max_call_time) == (25, 120)
