"""MP3 files made here: frames of silence with real headers (MPEG-1 Layer III, 128 kbit/s,
44.1 kHz: 417 or 418 bytes, 1152 samples each)."""

from __future__ import annotations

HEADER = bytes([0xFF, 0xFB, 0x90, 0x00])
FRAME = HEADER + bytes(144 * 128_000 // 44_100 - 4)
FRAMES_PER_S = 44_100 / 1152


def mp3_bytes(seconds: float = 1.0, *, id3: bool = True) -> bytes:
    frames = FRAME * max(1, round(seconds * FRAMES_PER_S))
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) if id3 else b""
    return tag + frames + b"TAG" + bytes(125)
