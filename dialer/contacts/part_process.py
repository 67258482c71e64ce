"""A part process: `python -m dialer.contacts.part_process` reads parts of a contacts CSV on stdin
and writes each part's checked rows on stdout, in the order the parts came (dialer.contacts.parts).

Each frame (dialer.frames), either way, holds a pickle: from the importing process the checks,
the file's shape, the part's bytes and the lines before it; back the list of checked rows. Only
the importing process, which started this one, writes to it. It ends at the end of its input."""

from __future__ import annotations

import pickle
import sys

from dialer.contacts.checks import Checks, Good, Issue
from dialer.contacts.reader import Shape, part_rows
from dialer.frames import read_frame, write_frame

__all__ = ["checked_part", "main"]


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
