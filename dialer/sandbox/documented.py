"""The providers' documented rules the sandbox enforces, written here from
../shared/provider-docs and on purpose not shared with our client (dialer.sms, dialer.din,
dialer.providers): the sandbox checks that client, so a mistake there must not pass here.

- Xoxzo SMS: a request carries up to 660 characters; one part holds 140 single-byte or 70
  double-byte characters; a sender is up to 10 letters and digits, or up to 15 digits. Parts
  of a longer message are billed as concatenated SMS, each giving 6 bytes to the joining header.
- Voxology SMS: "7-bit character messages are batched into parts with a maximum of 152
  characters/part, and Unicode character messages ... 66 characters/part", up to 1600.
- Xoxzo DIN actions: one plain-text line, `playback URL`, `transfer NUMBER [--caller=NUMBER]`,
  `say LANG "text"`, `voicemail playback URL` or `voicemail say LANG "text"`.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "XOXZO_SMS_MAX_CHARS",
    "action_problem",
    "voxology_sms_parts",
    "xoxzo_sender_ok",
    "xoxzo_sms_parts",
]

XOXZO_SMS_MAX_CHARS = 660

_PART_BYTES = 140
_JOINED_PART_BYTES = _PART_BYTES - 6


def _single_byte(char: str) -> bool:
    return ord(char) < 0x80


def xoxzo_sms_parts(message: str) -> int:
    """Billed parts: a message with any double-byte character is sent wholly as double-byte."""
    width = 1 if all(_single_byte(c) for c in message) else 2
    size = len(message) * width
    if size == 0:
        return 0
    if size <= _PART_BYTES:
        return 1
    return math.ceil(size / _JOINED_PART_BYTES)


def xoxzo_sender_ok(sender: str) -> bool:
    letters = 0 < len(sender) <= 10 and sender.isascii() and sender.isalnum()
    digits = sender.removeprefix("+")
    return letters or (0 < len(digits) <= 15 and digits.isascii() and digits.isdigit())


# GSM 03.38's default alphabet and its extension table: the characters of a "7-bit" message.
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = "^{}\\[~]|€\f"
_SEVEN_BIT = frozenset(_GSM_BASIC + _GSM_EXTENSION)


def voxology_sms_parts(text: str) -> int:
    per_part = 152 if all(c in _SEVEN_BIT for c in text) else 66
    return math.ceil(len(text) / per_part)


_NUMBER = re.compile(r"\+[0-9]{7,15}")
_LANG = re.compile(r"[a-z]{2}")


def _playback_problem(rest: str) -> str | None:
    if not rest.startswith(("http://", "https://")) or " " in rest or '"' in rest:
        return f"playback takes one URL, not {rest!r}"
    return None


def _say_problem(rest: str) -> str | None:
    lang, _, quoted = rest.partition(" ")
    if not _LANG.fullmatch(lang):
        return f"say takes a language code first, not {lang!r}"
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"' or '"' in quoted[1:-1]:
        return 'say takes its text in one pair of quotation marks: say en "text"'
    return None


def _transfer_problem(rest: str) -> str | None:
    number, _, option = rest.partition(" ")
    if not _NUMBER.fullmatch(number):
        return f"transfer takes a number in E.164, not {number!r}"
    if option and not (
        option.startswith("--caller=") and _NUMBER.fullmatch(option.removeprefix("--caller="))
    ):
        return f"transfer's only option is --caller=NUMBER, not {option!r}"
    return None


def action_problem(answer: str) -> str | None:
    """Why an action URL's answer is not one action Xoxzo can follow; None if it is."""
    line = answer.strip()
    if "\n" in line or "\r" in line:
        return "the answer must be one line"
    verb, _, rest = line.partition(" ")
    if verb == "voicemail":
        greeting, _, greeting_rest = rest.partition(" ")
        if greeting == "playback":
            return _playback_problem(greeting_rest)
        if greeting == "say":
            return _say_problem(greeting_rest)
        return f"voicemail takes a playback or a say greeting, not {greeting!r}"
    checks = {"playback": _playback_problem, "say": _say_problem, "transfer": _transfer_problem}
    check = checks.get(verb)
    if check is None:
        return f"unknown action {verb!r}: playback, transfer, say or voicemail"
    return check(rest)
