"""What a key press during the confirmation COLLECT means."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dialer.providers.fields import MalformedField

__all__ = ["CONFIRM_COLLECT", "CONFIRM_KEY", "OPT_OUT_KEY", "Answer", "read_answer"]

CONFIRM_COLLECT = "confirm"
CONFIRM_KEY = "1"
OPT_OUT_KEY = "9"


class Answer(StrEnum):
    confirmed = "confirmed"
    opted_out = "opted_out"
    none = "none"


def read_answer(key_presses: Any) -> Answer:
    """The answer in a live_call's `key_presses`: the last digits of the confirmation COLLECT.
    MalformedField if they are not the list of objects the reference describes."""
    if key_presses is None:
        return Answer.none
    if not isinstance(key_presses, list) or not all(isinstance(p, dict) for p in key_presses):
        raise MalformedField("key_presses", key_presses, "a list of key press objects")
    for press in key_presses:
        if press.get("name") != CONFIRM_COLLECT:
            continue
        digits = str(press.get("digits") or "")
        if digits.startswith(OPT_OUT_KEY):
            return Answer.opted_out
        if digits.startswith(CONFIRM_KEY):
            return Answer.confirmed
    return Answer.none
