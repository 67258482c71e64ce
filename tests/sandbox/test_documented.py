"""The sandbox's own reading of the documented rules, and our client held to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.din.actions import Playback, Say, Transfer, Voicemail
from dialer.providers.voxology import voxology_sms_parts as client_voxology_parts
from dialer.sandbox.documented import (
    action_problem,
    voxology_sms_parts,
    xoxzo_sender_ok,
    xoxzo_sms_parts,
)
from dialer.sms import is_valid_sender, sms_parts

ASCII_LETTERS = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="`"),
    max_size=700,
)
JAPANESE = st.text(alphabet="あいうえお予約時刻氏名です。", min_size=1, max_size=700)


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("", 0),
        ("a" * 140, 1),
        ("a" * 141, 2),
        ("a" * 268, 2),
        ("a" * 269, 3),
        ("あ" * 70, 1),
        ("あ" * 71, 2),
        ("あ" * 134, 2),
        ("あ" * 135, 3),
        ("a" * 69 + "あ", 1),
    ],
)
def test_xoxzo_parts(message: str, parts: int) -> None:
    assert xoxzo_sms_parts(message) == parts


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 0),
        ("a" * 152, 1),
        ("a" * 153, 2),
        ("é" * 152, 1),
        ("[" * 152, 1),
        ("あ" * 66, 1),
        ("あ" * 67, 2),
        ("a" * 151 + "`", 3),
    ],
)
def test_voxology_parts(text: str, parts: int) -> None:
    assert voxology_sms_parts(text) == parts


@given(st.one_of(ASCII_LETTERS, JAPANESE))
def test_our_client_bills_xoxzo_parts_as_the_sandbox_does(text: str) -> None:
    assert sms_parts(text) == xoxzo_sms_parts(text)


@given(st.one_of(ASCII_LETTERS, JAPANESE))
def test_our_client_counts_voxology_parts_as_the_sandbox_does(text: str) -> None:
    assert client_voxology_parts(text) == voxology_sms_parts(text)


@pytest.mark.parametrize(
    ("sender", "ok"),
    [
        ("Clinic", True),
        ("ABCDEFGHIJ", True),
        ("ABCDEFGHIJK", False),
        ("+81312345678", True),
        ("1" * 15, True),
        ("1" * 16, False),
        ("", False),
        ("Clinic-1", False),
        ("診療所", False),
    ],
)
def test_xoxzo_senders(sender: str, ok: bool) -> None:
    assert xoxzo_sender_ok(sender) is ok
    assert is_valid_sender(sender) is ok


@pytest.mark.parametrize(
    "action",
    [
        Playback("http://example.com/media.mp3"),
        Transfer("+81807181881"),
        Transfer("+81807181881", caller="+8190123456789"),
        Say("en", "Hello, how are you?"),
        Say("ja", 'ご予約は"明日"です。\nまたね'),
        Voicemail(Playback("http://example.com/greeting.mp3")),
        Voicemail(Say("en", "You have reached the ABC company.")),
    ],
)
def test_every_action_our_server_answers_is_one_xoxzo_follows(
    action: Playback | Transfer | Say | Voicemail,
) -> None:
    assert action_problem(action.line()) is None


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "dial +81807181881",
        "playback",
        "playback example.com/a.mp3",
        "transfer 0807181881",
        "transfer +81807181881 --from=+8190123456789",
        'say "no language"',
        "say en unquoted",
        'say en "one" "two"',
        "voicemail transfer +81807181881",
        'say en "a"\nplayback http://example.com/a.mp3',
    ],
)
def test_answers_outside_the_grammar_are_refused(answer: str) -> None:
    assert action_problem(answer) is not None
