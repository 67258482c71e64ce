"""The keys a call reports in its callbacks' `key_presses`, by the name of the COLLECT that
took them."""

from __future__ import annotations

from typing import Any

from dialer.providers.fields import MalformedField

__all__ = ["MAX_PRESSES", "read_presses"]

# More COLLECTs than a script can ask in one call (dialer.scripts.walk.MAX_ASKS), with room.
MAX_PRESSES = 100
_MAX_DIGITS = 32


def read_presses(key_presses: Any) -> dict[str, str]:
    """{COLLECT name: the last digits pressed there}; MalformedField if `key_presses` is not
    the list of objects the reference describes."""
    if key_presses is None:
        return {}
    if not isinstance(key_presses, list) or not all(isinstance(p, dict) for p in key_presses):
        raise MalformedField("key_presses", key_presses, "a list of key press objects")
    if len(key_presses) > MAX_PRESSES:
        raise MalformedField("key_presses", len(key_presses), f"at most {MAX_PRESSES} entries")
    presses: dict[str, str] = {}
    for press in key_presses:
        name, digits = press.get("name"), press.get("digits")
        if not isinstance(name, str) or not isinstance(digits, str | int | type(None)):
            raise MalformedField("key_presses", press, "a name and its digits")
        presses[name[:100]] = str(digits if digits is not None else "")[:_MAX_DIGITS]
    return presses
