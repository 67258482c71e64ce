from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dialer.callflows.keys import Answer, read_answer
from dialer.callflows.render import (
    ConferenceFlow,
    DetectFlow,
    Recording,
    SayFlow,
    Speech,
    render_flow,
)

HELLO = Speech(text='Hello "Aiko" <3 & goodbye')


def _events(flow: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    events: dict[str, list[dict[str, Any]]] = flow["actions"][0]["events"]
    return events


def test_detect_speaks_then_asks_to_confirm_and_leaves_a_voicemail() -> None:
    flow = render_flow(DetectFlow(message=HELLO)).flow
    live = _events(flow)["on_live_person"]
    assert live[0] == {
        "type": "SAY",
        "params": {"text": HELLO.text, "language": "english", "voice": "Kate"},
    }
    assert live[1]["type"] == "COLLECT" and live[1]["name"] == "confirm"
    assert _events(flow)["on_voicemail"] == [live[0], {"type": "HANGUP"}]
    assert "on_voicemail_early" not in _events(flow)


def test_detect_can_hang_up_on_machines_and_text_them_instead() -> None:
    flow = render_flow(
        DetectFlow(
            message=HELLO, leave_voicemail=False, early_sms="We called about your appointment."
        )
    ).flow
    assert _events(flow)["on_voicemail"] == [{"type": "HANGUP"}]
    assert _events(flow)["on_voicemail_early"] == [
        {"type": "SMS", "params": {"message": "We called about your appointment."}},
        {"type": "HANGUP"},
    ]


def test_detect_with_a_recording_and_its_own_voicemail_message() -> None:
    flow = render_flow(
        DetectFlow(
            message=Recording(url="http://x.test/a.mp3"),
            voicemail_message=Speech(text="Call us back."),
        )
    ).flow
    assert _events(flow)["on_live_person"][0] == {
        "type": "PLAY",
        "params": {"url": "http://x.test/a.mp3"},
    }
    assert _events(flow)["on_voicemail"][0]["params"]["text"] == "Call us back."


def test_say_and_conference() -> None:
    assert render_flow(SayFlow(message=HELLO)).flow["actions"][1] == {"type": "HANGUP"}
    conference = render_flow(ConferenceFlow(name="team-42", greeting=HELLO)).flow["actions"]
    assert conference[1] == {
        "type": "CONFERENCE",
        "params": {"name": "team-42", "max_participants": 3},
    }


def test_contexts_refuse_what_would_make_a_bad_flow() -> None:
    with pytest.raises(ValidationError):
        ConferenceFlow(name="not allowed!")
    with pytest.raises(ValidationError):
        SayFlow(message=Speech(text=""))


@pytest.mark.parametrize(
    ("presses", "answer"),
    [
        ([{"name": "confirm", "digits": "1"}], Answer.confirmed),
        ([{"name": "confirm", "digits": "9"}], Answer.opted_out),
        ([{"name": "confirm", "digits": "5"}], Answer.none),
        ([{"name": "other", "digits": "9"}], Answer.none),
        ([], Answer.none),
        (None, Answer.none),
    ],
)
def test_read_answer(presses: list[dict[str, str]] | None, answer: Answer) -> None:
    assert read_answer(presses) == answer
