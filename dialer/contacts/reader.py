"""Reading a contacts CSV as a stream: its encoding, its header, and each row with its number.

Never the whole file in memory: rows come one at a time from a binary stream.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

__all__ = [
    "MAX_CELL_CHARS",
    "PHONE_HEADERS",
    "Column",
    "CsvLayout",
    "CsvProblem",
    "Row",
    "Shape",
    "detect_encoding",
    "part_rows",
    "read_rows",
    "read_shape",
]

# Header names taken as the phone column when none is named (compared in lower case).
PHONE_HEADERS = ("phone", "phone_number", "number", "tel", "telephone", "mobile", "to", "電話番号")
TIMEZONE_HEADERS = ("timezone", "time_zone", "tz")
SEND_AT_HEADERS = ("send_at",)
_SNIFF_BYTES = 64 * 1024
# A contact's values feed a message of at most a few hundred characters.
MAX_CELL_CHARS = 4096


class CsvProblem(ValueError):
    """A file that cannot be read as a contact list at all (rather than one bad row)."""


@dataclass(frozen=True)
class CsvLayout:
    """Which column is what. Columns not named here become template variables."""

    phone_column: str | None = None
    timezone_column: str | None = None
    # A per-contact send time: an instant with an offset, or the person's local time.
    send_at_column: str | None = None
    # CSV header -> variable name, for headers that are not names a template can use.
    rename: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    # The header's row number: 1 as in a spreadsheet; 0 numbers the data rows from 1.
    header_row: int = 1


class Column(NamedTuple):
    """A column other than phone, time zone and send time: its header as uploaded, and the
    name its values go by in each row's variables (the header, unless renamed). A name that
    is an identifier (Unicode included, e.g. 氏名) is a template variable; any other is kept
    for the results."""

    header: str
    name: str

    @property
    def is_variable(self) -> bool:
        return self.name.isidentifier()


class Row(NamedTuple):
    """One data row. A tuple, not a dataclass: an import makes millions of these."""

    number: int  # the spreadsheet row: the header is row 1
    phone: str
    timezone: str | None
    variables: dict[str, str]
    problem: str | None = None
    send_at: str | None = None


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Shift_JIS (as Windows writes it)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def _pick(headers: list[str], named: str | None, candidates: tuple[str, ...]) -> int | None:
    if named is not None:
        if named not in headers:
            raise CsvProblem(f"no column {named!r} in the header ({', '.join(headers)})")
        return headers.index(named)
    lowered = [h.lower() for h in headers]
    return next((lowered.index(c) for c in candidates if c in lowered), None)


class Shape(NamedTuple):
    """How the file's data rows are read: what a process reading a part of them needs."""

    encoding: str
    columns: _Columns
    header_row: int


def read_rows(stream: BinaryIO, layout: CsvLayout) -> tuple[list[Column], Iterator[Row]]:
    """The columns each row's variables have, and the rows. `stream` must be seekable (a file,
    a spooled upload)."""
    text, lines, reader, encoding = _open(stream, layout)
    try:
        header, columns = _header(lines, reader, layout, encoding)
    except BaseException:
        _release(text)
        raise
    return header, _rows(text, lines, reader, layout.header_row, columns)


def read_shape(stream: BinaryIO, layout: CsvLayout) -> tuple[list[Column], Shape]:
    """The columns, as read_rows gives them, and how the rows after the header are read."""
    text, lines, reader, encoding = _open(stream, layout)
    try:
        header, columns = _header(lines, reader, layout, encoding)
    finally:
        _release(text)
    return header, Shape(encoding, columns, layout.header_row)


def part_rows(data: bytes, shape: Shape, number: int) -> Iterator[Row]:
    """The rows of `data`, whole lines of the file after the header, the first numbered
    `number` + 1: as read_rows reads them."""
    text = io.TextIOWrapper(
        io.BytesIO(data), encoding=shape.encoding, errors="surrogateescape", newline=""
    )
    lines = _Lines(text)
    return _rows(text, lines, csv.reader(lines), number, shape.columns)


def _open(
    stream: BinaryIO, layout: CsvLayout
) -> tuple[io.TextIOWrapper, _Lines, Iterator[list[str]], str]:
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    encoding = layout.encoding or detect_encoding(head)
    # Undecodable bytes become lone surrogates, so one bad row is that row's problem alone.
    text = io.TextIOWrapper(stream, encoding=encoding, errors="surrogateescape", newline="")
    lines = _Lines(text)
    return text, lines, csv.reader(lines), encoding


def _header(
    lines: _Lines, reader: Iterator[list[str]], layout: CsvLayout, encoding: str
) -> tuple[list[Column], _Columns]:
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CsvProblem("the file is empty: no header row") from None
    except csv.Error as exc:
        raise CsvProblem(f"the header row cannot be read: {exc}") from exc
    if len(lines.taken) > 1 or any(_broken(h) for h in headers):
        raise CsvProblem("the header row has a quote that is not closed on its line")
    if any(_undecodable(h) for h in headers):
        raise CsvProblem(f"the header row is not {encoding}")
    phone_at = _pick(headers, layout.phone_column, PHONE_HEADERS)
    if phone_at is None:
        known = ", ".join(PHONE_HEADERS)
        raise CsvProblem(f"no phone column: name one, or call it one of {known}")
    tz_at = _pick(headers, layout.timezone_column, TIMEZONE_HEADERS)
    send_at = _pick(headers, layout.send_at_column, SEND_AT_HEADERS)
    unknown = sorted(set(layout.rename) - set(headers))
    if unknown:
        raise CsvProblem(f"rename names columns the file does not have: {', '.join(unknown)}")
    variables = [
        (i, layout.rename.get(header, header))
        for i, header in enumerate(headers)
        if i not in (phone_at, tz_at, send_at)
    ]
    names = [name for _, name in variables]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        shown = ", ".join(repr(name) for name in twice)
        raise CsvProblem(f"more than one column is named {shown}: rename all but one")
    columns = _Columns(len(headers), phone_at, tz_at, send_at, variables)
    return [Column(headers[i], name) for i, name in variables], columns


def _release(text: io.TextIOWrapper) -> None:
    """Hand the stream back to its owner, who closes it; the wrapper must not close it later."""
    with contextlib.suppress(ValueError):  # the owner closed it first
        text.detach()


class _Columns(NamedTuple):
    width: int
    phone: int
    timezone: int | None
    send_at: int | None
    variables: list[tuple[int, str]]


class _Lines:
    """The file's lines as the csv reader takes them: those of the current row are kept, so a
    row that swallowed the lines after it (a quote never closed) can give them back."""

    def __init__(self, text: Iterator[str]) -> None:
        self._text = text
        self._again: list[str] = []
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._again.pop() if self._again else next(self._text)
        self.taken.append(line)
        return line

    def give_back(self, lines: list[str]) -> None:
        self._again.extend(reversed(lines))


# What errors="surrogateescape" makes of bytes the encoding cannot decode.
_UNDECODED = re.compile("[\udc80-\udcff]")


def _broken(value: str) -> bool:
    return "\n" in value or "\r" in value


def _undecodable(value: str) -> bool:
    return not value.isascii() and _UNDECODED.search(value) is not None


def _first_cell(line: str, at: int) -> str:
    """The phone cell of a row that could not be read as a whole, for the report."""
    cells = line.rstrip("\r\n").split(",")
    return cells[at].strip().strip('"')[:64] if at < len(cells) else ""


_UNCLOSED = (
    "a quote opened on this row is not closed on it (a value cannot span lines): the row is "
    "not imported, and the rows after it are read on their own"
)


def _row_problem(fields: list[str], width: int) -> str | None:
    """What is wrong with a row read whole, if anything. (Millions of rows come through here:
    the checks run on the joined row, at C speed, and look closer only when one fires.)"""
    joined = "".join(fields)
    if _broken(joined):
        # A quote left open on the last line of the file (or of a part of it: dialer.contacts.
        # parts): the row is the line, as a row whose quote is closed on a later line is.
        return _UNCLOSED
    if len(fields) != width:
        return f"expected {width} fields, found {len(fields)}"
    if _undecodable(joined):
        return "undecodable bytes: the row is not in the file's encoding"
    if len(joined) > MAX_CELL_CHARS and any(len(f) > MAX_CELL_CHARS for f in fields):
        return f"a value is longer than {MAX_CELL_CHARS} characters"
    return None


def _rows(
    text: io.TextIOWrapper,
    lines: _Lines,
    reader: Iterator[list[str]],
    number: int,
    columns: _Columns,
) -> Iterator[Row]:
    """One Row per line of the file: a line that cannot be read is reported as itself, and
    the lines after it are read as their own rows, never swallowed into it."""
    width, phone_at, tz_at, send_at, variables = columns
    try:
        while True:
            lines.taken = []
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                lines.give_back(lines.taken[1:])
                number += 1
                line = lines.taken[0] if lines.taken else ""
                yield Row(number, _first_cell(line, phone_at), None, {}, f"unreadable: {exc}")
                continue
            if len(lines.taken) > 1:
                lines.give_back(lines.taken[1:])
                number += 1
                yield Row(number, _first_cell(lines.taken[0], phone_at), None, {}, _UNCLOSED)
                continue
            number += 1
            if not fields:
                continue  # a blank line
            wrong = _row_problem(fields, width)
            if wrong is _UNCLOSED:
                yield Row(number, _first_cell(lines.taken[0], phone_at), None, {}, _UNCLOSED)
                continue
            if wrong is not None:
                phone = fields[phone_at][:64] if phone_at < len(fields) else ""
                yield Row(number, phone, None, {}, wrong)
                continue
            yield Row(
                number=number,
                phone=fields[phone_at],
                timezone=(fields[tz_at].strip() or None) if tz_at is not None else None,
                variables={name: fields[i] for i, name in variables},
                send_at=(fields[send_at].strip() or None) if send_at is not None else None,
            )
    finally:
        _release(text)
