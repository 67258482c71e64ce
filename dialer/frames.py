"""Frames on a pipe between our own processes (the export and the contact part processes): each
is its length in `HEADER_BYTES` bytes, big-endian, then its body. Only the standard library: a
process started for one download or one import imports this and starts fast."""

from __future__ import annotations

from typing import IO

__all__ = ["HEADER_BYTES", "read_frame", "write_frame"]

HEADER_BYTES = 8


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's body; None at the end of the stream."""
    head = stream.read(HEADER_BYTES)
    if not head:
        return None
    if len(head) < HEADER_BYTES:
        raise EOFError("a frame cut short")
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        raise EOFError("a frame cut short")
    return body


def write_frame(stream: IO[bytes], body: bytes) -> None:
    stream.write(len(body).to_bytes(HEADER_BYTES, "big"))
    stream.write(body)
    stream.flush()
