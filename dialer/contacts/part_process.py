"""A part process: `python -m dialer.contacts.part_process` reads parts of a contacts CSV on stdin
and writes each part's checked rows on stdout, in the order the parts came (dialer.contacts.parts).

Each frame, either way, is its length in 8 bytes, big-endian, then a pickle: from the importing
process (the checks, the file's shape, the part's bytes, the lines before it), back the list of
checked rows. Only the importing process, which started this one, writes to it. It ends at the
end of its input."""

from __future__ import annotations

import pickle
import sys
from typing import IO

from dialer.contacts.checks import Checks, Good, Issue
from dialer.contacts.reader import Shape, part_rows

__all__ = ["checked_part", "main", "read_frame", "write_frame"]

_HEADER = 8


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's body; None at the end of the stream."""
    head = stream.read(_HEADER)
    if not head:
        return None
    if len(head) < _HEADER:
        raise EOFError("a frame cut short")
    size = int.from_bytes(head, "big")
    body = stream.read(size)
    if len(body) < size:
        raise EOFError("a frame cut short")
    return body


def write_frame(stream: IO[bytes], body: bytes) -> None:
    stream.write(len(body).to_bytes(_HEADER, "big"))
    stream.write(body)
    stream.flush()


def checked_part(checks: Checks, shape: Shape, data: bytes, before: int) -> list[Good | Issue]:
    """A part's rows, read as read_rows reads them there, checked."""
    return list(checks.checked(part_rows(data, shape, shape.header_row + before)))


def main() -> None:
    source, out = sys.stdin.buffer, sys.stdout.buffer
    while (frame := read_frame(source)) is not None:
        checks, shape, data, before = pickle.loads(frame)
        rows = checked_part(checks, shape, data, before)
        write_frame(out, pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
