from __future__ import annotations

import pytest

from dialer.sms import MAX_SMS_CHARS, is_valid_sender, sms_parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 140, 1),
        ("a" * 141, 2),
        ("a" * 268, 2),
        ("a" * 269, 3),
        ("あ" * 70, 1),
        ("あ" * 71, 2),
        ("あ" * 134, 2),
        ("あ" * 135, 3),
        ("Hello 世界", 1),
        ("a" * MAX_SMS_CHARS, 5),
        ("あ" * MAX_SMS_CHARS, 10),
    ],
)
def test_parts(text: str, parts: int) -> None:
    assert sms_parts(text) == parts


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("DIALER", True),
        ("Shop24", True),
        ("ABCDEFGHIJ", True),
        ("ABCDEFGHIJK", False),
        ("My Shop", False),
        ("", False),
        ("+81312345678", True),
        ("123456789012345", True),
        ("1234567890123456", False),
    ],
)
def test_senders(sender: str, valid: bool) -> None:
    assert is_valid_sender(sender) is valid
