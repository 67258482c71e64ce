"""SMS rules that hold before any provider sees a message: length, parts, sender format."""

from __future__ import annotations

import math
import re

__all__ = ["MAX_SMS_CHARS", "is_valid_sender", "sms_parts"]

# Xoxzo refuses longer messages with "Message too long".
MAX_SMS_CHARS = 660

# One part holds 140 single-byte or 70 double-byte characters (Xoxzo). A longer message is
# sent concatenated, and each part gives up room for the joining header (GSM 03.40).
_SINGLE, _SINGLE_JOINED = 140, 134
_DOUBLE, _DOUBLE_JOINED = 70, 67

_ALPHANUMERIC_SENDER = re.compile(r"^[A-Za-z0-9]{1,10}$")
_NUMERIC_SENDER = re.compile(r"^\+?[0-9]{1,15}$")


def sms_parts(text: str) -> int:
    """How many parts `text` is billed as; 0 for an empty message."""
    if not text:
        return 0
    single_byte = text.isascii()
    whole, joined = (_SINGLE, _SINGLE_JOINED) if single_byte else (_DOUBLE, _DOUBLE_JOINED)
    return 1 if len(text) <= whole else math.ceil(len(text) / joined)


def is_valid_sender(sender: str) -> bool:
    """A sender ID: up to 10 letters and digits, or a number of up to 15 digits."""
    return bool(_ALPHANUMERIC_SENDER.match(sender) or _NUMERIC_SENDER.match(sender))
