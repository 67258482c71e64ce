from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.scripts.schemas import Script
from dialer.scripts.walk import MAX_ASKS, walk
from tests.scripts.clinic import CLINIC

SCRIPT = Script.model_validate(CLINIC)


@pytest.mark.parametrize(
    ("presses", "at", "answers", "resume", "opted_out", "transfers"),
    [
        ({}, None, {}, "greet", False, []),
        ({"confirm": "1"}, "confirm", {"confirm": "confirmed"}, "thanks", False, []),
        ({"confirm": "2"}, "confirm", {"confirm": "reschedule"}, "thanks", False, []),
        ({"confirm": "9"}, "confirm", {"confirm": "opted out"}, "optout", True, []),
        ({"confirm": "0"}, "confirm", {"confirm": "front desk"}, "desk", False, []),
        ({"confirm": "0"}, "desk", {"confirm": "front desk"}, None, False, ["desk"]),
        # No key, then a wrong one: asked again each time, then the key that counts.
        ({}, "confirm", {}, "confirm", False, []),
        ({"confirm__2": "5"}, "confirm__2", {}, "confirm", False, []),
        (
            {"confirm__2": "5", "confirm__3": "2"},
            "confirm__3",
            {"confirm": "reschedule"},
            "thanks",
            False,
            [],
        ),
        # Three times nothing: goodbye.
        ({}, "confirm__3", {}, "bye", False, []),
    ],
)
def test_a_call_is_replayed_from_its_keys(
    presses: dict[str, str],
    at: str | None,
    answers: dict[str, str],
    resume: str | None,
    opted_out: bool,
    transfers: list[str],
) -> None:
    done = walk(SCRIPT, presses, at)
    assert (done.answers, done.resume, done.opted_out, done.transfers, done.lost) == (
        answers,
        resume,
        opted_out,
        transfers,
        False,
    )


def test_a_mark_the_script_never_reaches_is_lost() -> None:
    assert walk(SCRIPT, {}, "nowhere").lost
    assert walk(SCRIPT, {"confirm": "1"}, "confirm__2").lost


LOOP: dict[str, Any] = {
    "start": "menu",
    "steps": {
        "menu": {
            "ask": "Press 1 to hear it again.",
            "keys": {
                "1": {"label": "again", "next": "info"},
                "2": {"label": "done", "next": "end"},
            },
        },
        "info": {"say": "Here it is.", "next": "menu"},
        "end": {"hangup": True},
    },
}


@settings(max_examples=200, deadline=None)
@given(
    presses=st.dictionaries(
        st.sampled_from(["menu", *(f"menu__{n}" for n in range(2, 40))]),
        st.sampled_from(["", "1", "2", "3", "#"]),
    ),
    at=st.none() | st.sampled_from(["menu", *(f"menu__{n}" for n in range(2, 40)), "x"]),
)
def test_any_keys_end_the_walk(presses: dict[str, str], at: str | None) -> None:
    done = walk(Script.model_validate(LOOP), presses, at)
    assert sum(done.visits.values()) <= MAX_ASKS + 1
    assert done.resume in (None, "menu", "info", "end")
