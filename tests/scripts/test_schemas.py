from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dialer.scripts.schemas import Script
from tests.scripts.clinic import CLINIC


def _with(path: str, value: Any) -> dict[str, Any]:
    script = copy.deepcopy(CLINIC)
    node = script
    *parts, last = path.split(".")
    for part in parts:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return script


def test_the_clinic_script_is_a_script() -> None:
    script = Script.model_validate(CLINIC)
    assert script.questions() == ["confirm"]
    assert dict(script.texts())["steps.greet.say"].startswith("{{ 氏名 }}")


@pytest.mark.parametrize(
    ("script", "named"),
    [
        (_with("start", "welcome"), "start: no step named 'welcome'"),
        (_with("steps.confirm.keys.2.next", "later"), "steps.confirm.keys.2.next: no step"),
        (_with("steps.thanks.next", "nowhere"), "steps.thanks.next: no step named 'nowhere'"),
        (_with("steps.spare", {"say": "never said"}), "steps.spare: unreachable from start"),
        (_with("steps.thanks.next", "thanks"), "steps.thanks: loops through thanks without"),
        (_with("steps.thanks.next", "optout"), "steps.thanks.next: an opt_out is reached only"),
        (_with("steps.confirm.no_input.next", "optout"), "steps.confirm.no_input.next: an opt_out"),
        (_with("steps.confirm.keys.12", {"label": "x", "next": "bye"}), "single keypad keys"),
        (_with("steps.confirm.keys", {}), "an ask needs keys"),
        (_with("steps.bye.next", "greet"), "a hangup ends the call: no next"),
        (_with("steps.desk.transfer", "0312345678"), "steps.desk.transfer"),
        (_with("steps.thanks.play", "http://x.test/a.mp3"), "says or plays, not both"),
        (_with("steps.confirm.keys.1.label", "\x00"), "printable"),
        (_with("steps.bad name", {"hangup": True}), "steps: names are letters"),
        (_with("steps.confirm.no_input.repeat", 9), "steps.confirm.no_input.repeat"),
    ],
)
def test_a_broken_script_names_the_step_and_field(script: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Script.model_validate(script)
    assert named in str(caught.value)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_step_keys = st.sampled_from(
    ["say", "play", "ask", "keys", "no_input", "transfer", "opt_out", "hangup", "next", "lang"]
)


@settings(max_examples=150, deadline=None)
@given(
    start=st.text(max_size=6),
    steps=st.dictionaries(
        st.text(max_size=6), st.dictionaries(_step_keys, _json, max_size=4), max_size=6
    ),
)
def test_any_json_is_a_script_or_a_validation_error(start: str, steps: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationError):
        Script.model_validate({"start": start, "steps": steps})
