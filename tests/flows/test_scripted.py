from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from dialer.flows.scripted import script_flow
from dialer.flows.validate import InvalidFlow
from dialer.scripts.defaults import DEFAULT_TEXTS, default_script
from dialer.scripts.schemas import Script
from dialer.scripts.walk import walk
from tests.scripts.clinic import CLINIC

SESSION = {"attempt_id": 7, "token": "t"}
HELLO = 'Hello "Aiko" <3 & goodbye'


def _first(script: Script, **options: Any) -> dict[str, Any]:
    start = walk(script, {}, None)
    flow: dict[str, Any] = script_flow(script, start.resume, start.visits, SESSION, **options).flow
    return flow


def _events(flow: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    events: dict[str, list[dict[str, Any]]] = flow["actions"][0]["events"]
    return events


def test_the_default_speaks_then_asks_to_confirm_and_leaves_a_voicemail() -> None:
    script = default_script(text=HELLO, recording_url=None, lang="en")
    flow = _first(script, lang="en", detect=True)
    live = _events(flow)["on_live_person"]
    assert live[0] == {
        "type": "SAY",
        "params": {"text": HELLO, "language": "english", "voice": "Kate"},
    }
    assert live[1] == {"type": "SESSIONDATA", "session_data": {**SESSION, "at": "confirm"}}
    assert live[2]["type"] == "COLLECT" and live[2]["name"] == "confirm"
    assert live[2]["actions"][0]["params"]["text"] == DEFAULT_TEXTS["en"]["prompt"]
    assert _events(flow)["on_voicemail"] == [live[0], {"type": "HANGUP"}]
    assert "on_voicemail_early" not in _events(flow)


def test_the_default_in_japanese() -> None:
    script = default_script(text="明日のご予約です。", recording_url=None, lang="ja")
    live = _events(_first(script, lang="ja", detect=True))["on_live_person"]
    assert live[0]["params"] == {
        "text": "明日のご予約です。",
        "language": "japanese",
        "voice": "Watson",
    }
    assert live[2]["actions"][0]["params"]["text"] == DEFAULT_TEXTS["ja"]["prompt"]


def test_a_machine_can_be_hung_up_on_and_texted_instead() -> None:
    script = Script.model_validate(
        {**CLINIC, "voicemail": {"say": "x", "sms": "We called about your appointment."}}
    )
    flow = _first(script, lang="ja", detect=True, leave_voicemail=False)
    assert _events(flow)["on_voicemail"] == [{"type": "HANGUP"}]
    assert _events(flow)["on_voicemail_early"] == [
        {"type": "SMS", "params": {"message": "We called about your appointment."}},
        {"type": "HANGUP"},
    ]


def test_a_recording_is_played() -> None:
    script = default_script(text=None, recording_url="http://x.test/a.mp3", lang="en")
    flow = _first(script, lang="en", detect=True)
    assert _events(flow)["on_live_person"][0] == {
        "type": "PLAY",
        "params": {"url": "http://x.test/a.mp3"},
    }
    assert _events(flow)["on_voicemail"][0]["type"] == "PLAY"


def test_each_answer_leads_to_its_own_flow() -> None:
    script = Script.model_validate(CLINIC)
    after = walk(script, {"confirm": "0"}, "confirm")
    desk = script_flow(script, after.resume, after.visits, SESSION, lang="ja").flow["actions"]
    assert [a["type"] for a in desk] == ["SESSIONDATA", "WEBHOOK", "TRANSFER"]
    assert desk[0]["session_data"]["at"] == "desk"
    assert desk[2]["params"] == {"no": "+81312345678"}
    after = walk(script, {"confirm": "9"}, "confirm")
    flow = script_flow(script, after.resume, after.visits, SESSION, lang="ja")
    assert flow.opts_out and flow.flow["actions"][-1] == {"type": "HANGUP"}
    again = walk(script, {}, "confirm")
    asked = script_flow(script, again.resume, again.visits, SESSION, lang="ja").flow["actions"]
    assert asked[-1]["name"] == "confirm__2"


def test_voices_follow_the_step_then_the_script() -> None:
    script = Script.model_validate(
        {
            "start": "a",
            "voice": "Kevin",
            "steps": {
                "a": {"say": "one", "next": "b"},
                "b": {"say": "two", "voice": "Watson", "next": "c"},
                "c": {"say": "さん", "lang": "ja", "voice": "Watson"},
            },
        }
    )
    said = [a["params"] for a in _first(script, lang="en")["actions"][:3]]
    assert said == [
        {"text": "one", "language": "english", "voice": "Kevin"},
        {"text": "two", "language": "englishUS", "voice": "Watson"},
        {"text": "さん", "language": "japanese", "voice": "Watson"},
    ]


def test_a_flow_over_voxologys_hard_limit_is_refused() -> None:
    steps = {f"s{i}": {"say": "あ" * 1000, "next": f"s{i + 1}"} for i in range(40)}
    steps["s40"] = {"hangup": True}
    script = Script.model_validate({"start": "s0", "steps": steps})
    with pytest.raises(InvalidFlow, match="hard limit"):
        _first(script, lang="ja")
    assert Counter() == walk(script, {}, None).visits
