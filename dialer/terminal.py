"""Text from users and providers, made safe to print on a terminal: control characters (escape
sequences that clear the screen or write the clipboard, bidirectional overrides) shown as
escapes, never sent as they are; long values cut."""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]


def _shown(ch: str) -> str:
    if ch.isprintable() or ch == " ":
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, limit: int = 200) -> str:
    """`value` as one line of inert text: every control or format character escaped."""
    text = str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable():
        return text
    return "".join(_shown(ch) if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
