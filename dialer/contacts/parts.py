"""A large contacts CSV parsed and checked in parts by processes beside the importing one.

Parsing, checking and normalising a row costs more than writing it, and in one process the
two run in turn on one core. Here the file after its header is cut into parts of about
`PART_BYTES` at line ends, and each part is read and checked (dialer.contacts.checks) by one of
`PROCESSES` processes (dialer.contacts.part_process); the importing process takes the parts'
rows back in the file's order and only dedupes and writes them. A row never spans lines
(reader.py), so a part's rows are the rows read_rows reads there, numbered from the lines before
it: the same rows in the same order either way.

Only for encodings in which line end bytes are always line ends (UTF-8, Shift_JIS, EUC-JP,
single-byte ones): a file in any other is read in the importing process."""

from __future__ import annotations

import codecs
import contextlib
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import BinaryIO

from dialer.contacts.checks import Checks, Good, Issue
from dialer.contacts.part_process import checked_part
from dialer.contacts.reader import Shape
from dialer.frames import read_frame, write_frame

__all__ = [
    "PARTED_FROM_BYTES",
    "PART_BYTES",
    "PROCESSES",
    "checked_in_parts",
    "cuts",
    "partable",
]

PROCESSES = 2
PART_BYTES = 1 << 20
# A smaller file is read in the importing process: the processes' start costs about a second.
PARTED_FROM_BYTES = 16 << 20
# Line feed bytes are line feeds in these, and never part of another character.
_LINE_SAFE = frozenset(
    codecs.lookup(name).name
    for name in ("utf-8", "utf-8-sig", "ascii", "cp932", "shift_jis", "euc_jp", "latin-1", "cp1252")
)
# One large import at a time in a process: each takes every core the machine has.
_ONE_AT_A_TIME = threading.Lock()


def partable(shape: Shape, head: bytes) -> int | None:
    """Where the data rows start, if this file can be read in parts: `head` is the file's
    first bytes, read_shape's read of the header line among them."""
    if codecs.lookup(shape.encoding).name not in _LINE_SAFE:
        return None
    # Just past the header's line end: a carriage return, a line feed, or both. A carriage
    # return at the very end of `head` may be the first half of a CR LF: not yet known.
    found = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    if not found:
        return None
    end = min(found)
    if head[end : end + 1] == b"\r":
        if end + 1 == len(head):
            return None
        if head[end + 1 : end + 2] == b"\n":
            end += 1
    return end + 1


def _last_line_end(data: bytes) -> int:
    """Just past the last line end of `data` that is surely one (0 if none): a carriage return
    at the very end may be the first half of a CR LF."""
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def _lines(data: bytes) -> int:
    """The lines read_rows counts in `data`: ended by a line feed, a carriage return, or both."""
    ended = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return ended + (1 if data and not data.endswith((b"\n", b"\r")) else 0)


def cuts(stream: BinaryIO, size: int) -> Iterator[tuple[bytes, int]]:
    """The rest of `stream` in parts of whole lines, about `size` bytes each (a longer line is
    a part of its own), each with how many lines came before it."""
    before = 0
    rest = b""
    while block := stream.read(size):
        data = rest + block
        end = _last_line_end(data)
        if end == 0:
            rest = data
            continue
        part, rest = data[:end], data[end:]
        yield part, before
        before += _lines(part)
    if rest:
        yield rest, before


def checked_in_parts(
    stream: BinaryIO,
    shape: Shape,
    checks: Checks,
    *,
    size: int = PART_BYTES,
    processes: int = PROCESSES,
) -> Iterator[Good | Issue]:
    """The checked rows of the rest of `stream`, in its order, its parts read by `processes`
    processes; in this process when that is 0 or another import here has the processes."""
    parts = cuts(stream, size)
    if not processes or not _ONE_AT_A_TIME.acquire(blocking=False):
        for data, before in parts:
            yield from checked_part(checks, shape, data, before)
        return
    crew: list[_PartProcess] = []
    try:
        try:
            for _ in range(processes):
                crew.append(_PartProcess())  # each stopped below, if a later one fails to start
            sent = taken = 0
            for data, before in parts:
                # Parts are dealt in turn; two ahead per process keeps each busy while this
                # one writes, and memory at a few parts whatever the file.
                if sent - taken >= 2 * processes:
                    yield from crew[taken % processes].take()
                    taken += 1
                crew[sent % processes].give((checks, shape, data, before))
                sent += 1
            for process in crew:
                process.close()
            while taken < sent:
                yield from crew[taken % processes].take()
                taken += 1
        finally:
            for process in crew:
                process.stop()
    finally:
        _ONE_AT_A_TIME.release()


class _PartProcess:
    """One part process: parts go to it from a thread of their own, so that a part's write
    never waits on rows that this process has yet to take back."""

    def __init__(self) -> None:
        # Its complaints go to a file: a pipe nobody reads while it works could fill and stop it.
        self._said = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "dialer.contacts.part_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._said,
        )
        self._parts: queue.Queue[bytes | None] = queue.Queue()
        self._feeder = threading.Thread(target=self._feed, name="contact-parts", daemon=True)
        self._feeder.start()

    def give(self, work: tuple[Checks, Shape, bytes, int]) -> None:
        self._parts.put(pickle.dumps(work, pickle.HIGHEST_PROTOCOL))

    def close(self) -> None:
        """No more parts: the process ends once it has sent back those it has."""
        self._parts.put(None)

    def take(self) -> list[Good | Issue]:
        """The checked rows of the oldest part not yet taken back."""
        assert self._popen.stdout is not None
        try:
            frame = read_frame(self._popen.stdout)
        except EOFError:
            frame = None
        if frame is None:
            raise RuntimeError(self._failure())
        rows: list[Good | Issue] = pickle.loads(frame)
        return rows

    def stop(self) -> None:
        if self._popen.poll() is None:
            self._popen.kill()
        self._parts.put(None)
        self._popen.wait()
        self._feeder.join()
        for pipe in (self._popen.stdin, self._popen.stdout, self._said):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def _feed(self) -> None:
        stdin = self._popen.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # the process ended: take() says why
            while (part := self._parts.get()) is not None:
                write_frame(stdin, part)
            stdin.close()

    def _failure(self) -> str:
        self._popen.wait()
        self._said.seek(0)
        said = self._said.read()[-2000:].decode(errors="replace").strip()
        return f"a contact part process ended with {self._popen.returncode}: {said}"
