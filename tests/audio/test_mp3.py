from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.audio.mp3 import Mp3, NotMp3, read_mp3
from tests.audio.mp3s import FRAME, mp3_bytes


def test_frames_are_counted_and_timed() -> None:
    read = read_mp3(io.BytesIO(mp3_bytes(2.0)))
    assert (read.frames, read.sample_rate, read.kbps) == (77, 44100, 128)
    assert read.duration_s == pytest.approx(2.0, abs=0.03)
    assert read_mp3(io.BytesIO(mp3_bytes(1.0, id3=False))).frames == 38


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"Dear patient, see you tomorrow.\n" * 200, "no MP3"),
        (b"", "no MP3"),
        (FRAME * 2, "too short"),
        (FRAME * 10 + b"<html>" + bytes(500) + FRAME * 10, "the frames stop"),
        # Layer II (0xFD): an MPEG audio file, but not MP3.
        (bytes([0xFF, 0xFD, 0x90, 0x00]) + bytes(500), "no MP3"),
    ],
)
def test_what_is_not_mp3_audio_says_why(data: bytes, why: str) -> None:
    with pytest.raises(NotMp3, match=why):
        read_mp3(io.BytesIO(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=40))
def test_any_bytes_are_mp3_or_not_never_an_error(noise: bytes, prefix: bytes) -> None:
    for data in (noise, prefix + FRAME * 5 + noise):
        with contextlib.suppress(NotMp3):
            assert isinstance(read_mp3(io.BytesIO(data)), Mp3)
