from __future__ import annotations

import pytest

from dialer.terminal import printable


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("+819012345670", "+819012345670"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),
        ("a\u202eb", "a\\u202eb"),
        ("line\nbreak", "line\\x0abreak"),
        ("氏名 Aiko", "氏名 Aiko"),
        (12, "12"),
    ],
)
def test_control_characters_are_shown_not_sent(value: object, shown: str) -> None:
    assert printable(value) == shown


def test_long_values_are_cut() -> None:
    assert printable("x" * 500, 10) == "x" * 10 + "…"
