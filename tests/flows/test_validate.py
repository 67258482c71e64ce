from __future__ import annotations

from typing import Any

import pytest

from dialer.flows.validate import (
    HARD_LIMIT_BYTES,
    InvalidFlow,
    check_flow,
    measured_size,
)

SAY = {"type": "SAY", "params": {"text": "Hello"}}
HANGUP = {"type": "HANGUP"}
DETECT = {"type": "DETECT", "events": {"on_live_person": [SAY], "on_voicemail": [HANGUP]}}


@pytest.mark.parametrize(
    "actions",
    [
        [SAY, HANGUP],
        [DETECT],
        [{"$nextUrl": "'sales.json'"}, SAY],
        [{"type": "PLAY", "params": {"dtmf": "1-2"}}],
        [{"type": "CONFERENCE", "params": {"name": "room_1-a"}}],
        [{"type": "COLLECT", "name": "c", "actions": [SAY, {"type": "PAUSE"}]}],
        [{"type": "IF", "condition": "$x", "then": [SAY], "else": [HANGUP]}],
    ],
)
def test_good_flows_pass(actions: list[dict[str, Any]]) -> None:
    assert check_flow({"actions": actions}).warnings == []


@pytest.mark.parametrize(
    ("flow", "problem"),
    [
        ({"actions": [SAY], "extra": 1}, 'one key, "actions"'),
        ({"actions": []}, "non-empty list"),
        ({"actions": [{"type": "SPEAK"}]}, "unknown action type 'SPEAK'"),
        ({"actions": [{"type": "SAY", "params": {}}]}, "params.text required"),
        ({"actions": [{"type": "PLAY", "params": {}}]}, "params.url or params.dtmf required"),
        ({"actions": [{"type": "SMS"}]}, "params.message required"),
        ({"actions": [{"type": "CONFERENCE", "params": {"name": "a b"}}]}, "letters, digits"),
        ({"actions": [{"type": "COLLECT"}]}, "name required"),
        (
            {"actions": [{"type": "COLLECT", "name": "c", "actions": [HANGUP]}]},
            "may only be PLAY, SAY, PAUSE",
        ),
        (
            {"actions": [{"type": "DETECT", "events": {"on_live_person": [SAY]}}]},
            "events.on_voicemail required",
        ),
        (
            {
                "actions": [
                    {
                        "type": "DETECT",
                        "events": {"on_live_person": [{"type": "SAY"}], "on_voicemail": [HANGUP]},
                    }
                ]
            },
            "actions[0].events.on_live_person[0] SAY: params.text required",
        ),
        ({"actions": [{"type": "IF", "then": [{"type": "NOPE"}]}]}, "actions[0].then[0]"),
        ({"actions": ["SAY"]}, "an action is an object"),
    ],
)
def test_bad_flows_are_refused_with_where_and_why(flow: Any, problem: str) -> None:
    with pytest.raises(InvalidFlow) as caught:
        check_flow(flow)
    assert problem in str(caught.value)


def test_size_is_measured_without_whitespace_and_limited() -> None:
    assert measured_size({"actions": [{"type": "SAY", "params": {"text": "a b"}}]}) == len(
        '{"actions":[{"type":"SAY","params":{"text":"ab"}}]}'
    )
    soft = {"actions": [{"type": "SAY", "params": {"text": "x" * 40_000}}]}
    assert "soft limit" in check_flow(soft).warnings[0]
    hard = {"actions": [{"type": "SAY", "params": {"text": "x" * HARD_LIMIT_BYTES}}]}
    with pytest.raises(InvalidFlow, match="hard limit"):
        check_flow(hard)


def test_the_reference_detect_example_is_valid() -> None:
    # The DETECT example of the reference (its SAY texts shortened).
    detect = {
        "type": "DETECT",
        "params": {"trigger_live_in_ms": 3000},
        "events": {
            "on_live_person": [{"type": "SAY", "params": {"text": "Welcome to the call."}}],
            "on_voicemail": [{"type": "SAY", "params": {"text": "Sorry we missed you."}}],
        },
    }
    assert check_flow({"actions": [detect]}).size_bytes > 0
