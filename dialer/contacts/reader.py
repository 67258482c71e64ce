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
    "PHONE_HEADERS",
    "CsvLayout",
    "CsvProblem",
    "Row",
    "detect_encoding",
    "read_rows",
]

# Header names taken as the phone column when none is named (compared in lower case).
PHONE_HEADERS = ("phone", "phone_number", "number", "tel", "telephone", "mobile", "to", "電話番号")
TIMEZONE_HEADERS = ("timezone", "time_zone", "tz")
SEND_AT_HEADERS = ("send_at",)
_SNIFF_BYTES = 64 * 1024
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CsvProblem(ValueError):
    """A file that cannot be read as a contact list at all (rather than one bad row)."""


@dataclass(frozen=True)
class CsvLayout:
    """Which column is what. Columns not named here become template variables."""

    phone_column: str | None = None
    timezone_column: str | None = None
    # A per-contact send time: an instant with an offset, or the person's local time.
    send_at_column: str | None = None
    # CSV header -> variable name, for headers that are not valid names as they are.
    rename: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    # The header's row number: 1 as in a spreadsheet; 0 numbers the data rows from 1.
    header_row: int = 1


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


def read_rows(stream: BinaryIO, layout: CsvLayout) -> tuple[list[str], Iterator[Row]]:
    """The variable names, and the rows. `stream` must be seekable (a file, a spooled upload)."""
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    encoding = layout.encoding or detect_encoding(head)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        reader = csv.reader(text)
        try:
            headers = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CsvProblem("the file is empty: no header row") from None
        except UnicodeDecodeError as exc:
            raise CsvProblem(f"the file is not {encoding}: {exc.reason}") from exc
        phone_at = _pick(headers, layout.phone_column, PHONE_HEADERS)
        if phone_at is None:
            known = ", ".join(PHONE_HEADERS)
            raise CsvProblem(f"no phone column: name one, or call it one of {known}")
        tz_at = _pick(headers, layout.timezone_column, TIMEZONE_HEADERS)
        send_at = _pick(headers, layout.send_at_column, SEND_AT_HEADERS)
        unknown = sorted(set(layout.rename) - set(headers))
        if unknown:
            raise CsvProblem(f"rename names columns the file does not have: {', '.join(unknown)}")
        variables: list[tuple[int, str]] = []
        for i, header in enumerate(headers):
            if i in (phone_at, tz_at, send_at):
                continue
            name = layout.rename.get(header, header)
            if not _IDENTIFIER.match(name):
                raise CsvProblem(
                    f"column {header!r} is not a usable variable name: "
                    "rename it to letters, digits and _ (rename, or --rename in the CLI)"
                )
            variables.append((i, name))
    except BaseException:
        _release(text)
        raise
    columns = _Columns(len(headers), phone_at, tz_at, send_at, variables)
    rows = _rows(text, reader, layout.header_row, columns)
    return [name for _, name in variables], rows


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


def _rows(
    text: io.TextIOWrapper, reader: Iterator[list[str]], number: int, columns: _Columns
) -> Iterator[Row]:
    width, phone_at, tz_at, send_at, variables = columns
    try:
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise CsvProblem(f"row {number + 1}: undecodable bytes ({exc.reason})") from exc
            except csv.Error as exc:
                raise CsvProblem(f"row {number + 1}: {exc}") from exc
            number += 1
            if not fields:
                continue  # a blank line
            if len(fields) != width:
                phone = fields[phone_at] if phone_at < len(fields) else ""
                yield Row(number, phone, None, {}, f"expected {width} fields, found {len(fields)}")
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
