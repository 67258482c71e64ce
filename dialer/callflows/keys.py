"""What a key press during the confirmation COLLECT means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

__all__ = ["CONFIRM_COLLECT", "CONFIRM_KEY", "OPT_OUT_KEY", "Answer", "read_answer"]

CONFIRM_COLLECT = "confirm"
CONFIRM_KEY = "1"
OPT_OUT_KEY = "9"


class Answer(StrEnum):
    confirmed = "confirmed"
    opted_out = "opted_out"
    none = "none"


def read_answer(key_presses: Sequence[Mapping[str, Any]] | None) -> Answer:
    """The answer in a live_call's `key_presses`: the last digits of the confirmation COLLECT."""
    for press in key_presses or []:
        if press.get("name") != CONFIRM_COLLECT:
            continue
        digits = str(press.get("digits") or "")
        if digits.startswith(OPT_OUT_KEY):
            return Answer.opted_out
        if digits.startswith(CONFIRM_KEY):
            return Answer.confirmed
    return Answer.none
