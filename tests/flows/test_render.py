from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialer.flows.render import (
    ConferenceFlow,
    SayFlow,
    Speech,
    render_flow,
)

HELLO = Speech(text='Hello "Aiko" <3 & goodbye')


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
