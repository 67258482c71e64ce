"""Whether bytes are MP3 audio (MPEG-1, 2 or 2.5 Layer III frames, one after another, after any
ID3v2 tag), and how long they play: read frame by frame from their headers, decoding nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["MIN_FRAMES", "Mp3", "NotMp3", "read_mp3"]

# Fewer frames than this (a few hundredths of a second) is not a recording anyone can hear.
MIN_FRAMES = 4
# Bytes of something else allowed between the tag and the first frame (encoders pad).
_LEADING_JUNK = 4096

# kbit/s by bitrate index, Layer III: MPEG-1, and MPEG-2/2.5.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Hz by sample-rate index, per version bits: 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5.
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


class NotMp3(ValueError):
    """The bytes are not MP3 audio; the message says why."""


@dataclass(frozen=True)
class Mp3:
    duration_s: float
    frames: int
    sample_rate: int
    # The bitrate of the first frame, kbit/s (a VBR file varies from frame to frame).
    kbps: int


def _frame(header: bytes) -> tuple[int, int, int, int] | None:
    """(length in bytes, samples, sample rate, kbps) of the Layer III frame this 4-byte header
    starts; None if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x3
    layer = (header[1] >> 1) & 0x3
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved version, not Layer III, free or bad bitrate, reserved rate
    padding = (header[2] >> 1) & 0x1
    kbps = _BITRATES[1 if version == 3 else 2][bitrate_index]
    rate = _RATES[version][rate_index]
    if version == 3:
        return 144 * kbps * 1000 // rate + padding, 1152, rate, kbps
    return 72 * kbps * 1000 // rate + padding, 576, rate, kbps


def _skip_id3v2(data: BinaryIO) -> None:
    head = data.read(10)
    if len(head) == 10 and head[:3] == b"ID3" and all(b < 0x80 for b in head[6:10]):
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        footer = 10 if head[5] & 0x10 else 0
        data.seek(10 + size + footer)
    else:
        data.seek(0)


def read_mp3(data: BinaryIO, *, max_frames: int = 10_000_000) -> Mp3:
    """Its frames counted and timed; NotMp3 unless frames follow one another from the start
    (after an ID3v2 tag) to the end (before an ID3v1 or APE tag, or a last cut-off frame)."""
    _skip_id3v2(data)
    start = data.tell()
    lead = data.read(_LEADING_JUNK + 4)
    found = next(
        (i for i in range(max(0, len(lead) - 3)) if _frame(lead[i : i + 4]) is not None), None
    )
    if found is None:
        raise NotMp3("no MP3 (MPEG Layer III) audio frame at its start")
    data.seek(start + found)
    frames = samples = 0
    first: tuple[int, int, int, int] | None = None
    while frames < max_frames:
        header = data.read(4)
        if len(header) < 4:
            break
        frame = _frame(header)
        if frame is None:
            rest = header + data.read(128)
            if rest.startswith((b"TAG", b"APETAGEX", b"LYRICS")) or not rest.strip(b"\x00"):
                break  # a trailing tag, or padding
            raise NotMp3(f"not MP3 audio after {frames} frames: the frames stop")
        length, count, rate, _ = frame
        if first is None:
            first = frame
        elif rate != first[2]:
            raise NotMp3(f"the sample rate changes at frame {frames}")
        body = data.read(length - 4)
        if len(body) < length - 4:
            break  # the last frame cut short
        frames += 1
        samples += count
    if first is None or frames < MIN_FRAMES:
        raise NotMp3(f"{frames} MP3 frames: too short to be a recording")
    return Mp3(duration_s=samples / first[2], frames=frames, sample_rate=first[2], kbps=first[3])
