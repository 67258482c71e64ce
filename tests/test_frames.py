"""Frames between our own processes: what is written is read back whole, in order; a frame cut
short is an error, never a shorter body."""

from __future__ import annotations

import io

import pytest

from dialer.frames import read_frame, write_frame


def test_frames_are_read_back_whole_and_in_order() -> None:
    pipe = io.BytesIO()
    for body in (b"first", b"", b"\x00" * 70_000):
        write_frame(pipe, body)
    pipe.seek(0)
    assert [read_frame(pipe), read_frame(pipe), read_frame(pipe)] == [
        b"first",
        b"",
        b"\x00" * 70_000,
    ]
    assert read_frame(pipe) is None


@pytest.mark.parametrize("kept", [3, 8, 12])
def test_a_frame_cut_short_is_an_error(kept: int) -> None:
    pipe = io.BytesIO()
    write_frame(pipe, b"sixteen bytes!!!")
    with pytest.raises(EOFError, match="cut short"):
        read_frame(io.BytesIO(pipe.getvalue()[:kept]))
