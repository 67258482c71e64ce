from __future__ import annotations

import pytest

from dialer.din.actions import (
    InvalidAction,
    Playback,
    Say,
    Transfer,
    Voicemail,
    parse_action,
)


@pytest.mark.parametrize(
    ("line", "action"),
    [
        ("playback http://example.com/media.mp3", Playback("http://example.com/media.mp3")),
        (
            "transfer +81807181881 --caller=+8190123456789",
            Transfer("+81807181881", "+8190123456789"),
        ),
        ("transfer +81807181881", Transfer("+81807181881")),
        ('say en "Hello, how are you?"', Say("en", "Hello, how are you?")),
        ('say ja "こんにちは"', Say("ja", "こんにちは")),
        (
            "voicemail playback http://example.com/greeting.mp3",
            Voicemail(Playback("http://example.com/greeting.mp3")),
        ),
        (
            'voicemail say en "You have reached the ABC company. Please leave a message after '
            'the beep."',
            Voicemail(
                Say(
                    "en", "You have reached the ABC company. Please leave a message after the beep."
                )
            ),
        ),
    ],
)
def test_the_documented_examples_parse_and_format_back(line: str, action: object) -> None:
    parsed = parse_action(line)
    assert parsed == action
    assert parsed.line() == line


@pytest.mark.parametrize(
    "line",
    [
        "",
        "play http://example.com/a.mp3",
        "playback https://example.com/a.mp3",
        "playback",
        "transfer 0312345678",
        "transfer +81807181881 --caller=",
        'say fr "Bonjour"',
        "say en Hello",
        'say en "Hello" extra',
        'say en "one\ntwo"',
        "voicemail transfer +81807181881",
        "voicemail",
    ],
)
def test_lines_outside_the_grammar_are_refused(line: str) -> None:
    with pytest.raises(InvalidAction):
        parse_action(line)


def test_spoken_text_cannot_break_the_line() -> None:
    line = Say("en", 'He said "hi"\nthen left').line()
    assert line == "say en \"He said 'hi' then left\""
    assert parse_action(line) == Say("en", "He said 'hi' then left")
