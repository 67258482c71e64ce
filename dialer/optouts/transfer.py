"""The global do-not-contact list in and out as CSV: an import that reports every row it did not
take (a bad number, a line that cannot be read) and never stops at one; an export streamed a page
at a time."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.db import read_scope, session_scope
from dialer.errors import FieldError
from dialer.models import DoNotContact, OptOutEvent, utcnow
from dialer.optouts.service import GLOBAL, block_number
from dialer.phone import InvalidNumber, to_e164
from dialer.runtime import Runtime
from dialer.vocabulary import OptOutChange

__all__ = ["EXPORT_HEADER", "MAX_ROWS", "ImportReport", "exported_rows", "import_numbers"]

NUMBER_HEADERS = ("number", "phone", "phone_number", "tel", "telephone", "mobile", "電話番号")
# Rows a file may have; a longer list is imported in several files.
MAX_ROWS = 1_000_000
# Rows written per transaction: on SQLite the write lock is let go between them.
BATCH = 1000
# Issues listed in the answer (issues past these are counted, not listed).
LISTED_ISSUES = 100
EXPORT_HEADER = ["number", "source", "reason", "created_at"]


@dataclass
class ImportReport:
    rows: int = 0
    added: int = 0
    already: int = 0
    invalid: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)
    # Why the import stopped before the end of the file, if it did.
    stopped: str | None = None

    def issue(self, row: int, value: str, reason: str) -> None:
        self.invalid += 1
        if len(self.issues) < LISTED_ISSUES:
            self.issues.append({"row": row, "value": value[:64], "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "added": self.added,
            "already": self.already,
            "invalid": self.invalid,
            "issues": self.issues,
            "stopped": self.stopped,
        }


def _text(stream: BinaryIO) -> io.TextIOWrapper:
    """UTF-8 (a byte-order mark or not), else Shift_JIS as Windows writes it."""
    head = stream.read(64 * 1024)
    stream.seek(0)
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "cp932"
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def _columns(header: list[str]) -> tuple[int, int | None]:
    lowered = [h.strip().lower() for h in header]
    number_at = next((lowered.index(h) for h in NUMBER_HEADERS if h in lowered), None)
    if number_at is None:
        raise FieldError("file", f"no number column: call it one of {', '.join(NUMBER_HEADERS)}")
    return number_at, lowered.index("reason") if "reason" in lowered else None


async def import_numbers(
    runtime: Runtime, stream: BinaryIO, source: str, region: str
) -> ImportReport:
    """Add each number of a CSV (a header row; a number column, a reason column if any) to the
    global list. FieldError if the file has no header or no number column."""
    text = _text(stream)
    try:
        return await _import(runtime, csv.reader(text), source, region)
    finally:
        text.detach()  # the stream is the caller's to close


async def _import(runtime: Runtime, reader: Any, source: str, region: str) -> ImportReport:
    report = ImportReport()
    try:
        header = next(reader)
    except StopIteration:
        raise FieldError("file", "the file is empty: no header row") from None
    except csv.Error as exc:
        raise FieldError("file", f"the header row cannot be read: {exc}") from exc
    number_at, reason_at = _columns(header)
    batch: dict[str, str | None] = {}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.rows += 1
            report.issue(reader.line_num, "", f"the line cannot be read: {exc}")
            continue
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if report.rows == MAX_ROWS:
            report.stopped = (
                f"the file has more than {MAX_ROWS:,} rows: these were imported, not the rest; "
                "import the rest as another file"
            )
            break
        report.rows += 1
        raw = fields[number_at].strip() if number_at < len(fields) else ""
        try:
            number = to_e164(raw, region)
        except (InvalidNumber, ValueError, OverflowError) as exc:
            report.issue(line, raw, f"invalid phone number: {exc}")
            continue
        reason = (
            fields[reason_at].strip()[:500] or None
            if reason_at is not None and reason_at < len(fields)
            else None
        )
        if number in batch:
            report.already += 1
            continue
        batch[number] = reason
        if len(batch) >= BATCH:
            await _write(runtime, batch, source, report)
            batch = {}
    if batch:
        await _write(runtime, batch, source, report)
    return report


async def _write(
    runtime: Runtime, batch: dict[str, str | None], source: str, report: ImportReport
) -> None:
    async with session_scope(runtime.sessions) as session:
        listed = await _listed(session, list(batch))
        new = {n: r for n, r in batch.items() if n not in listed}
        report.already += len(batch) - len(new)
        try:
            async with session.begin_nested():
                now = utcnow()
                for number, reason in new.items():
                    session.add(DoNotContact(number=number, source=source, reason=reason))
                    session.add(
                        OptOutEvent(
                            scope=GLOBAL,
                            number=number,
                            change=OptOutChange.added,
                            source=source,
                            reason=reason,
                            happened_at=now,
                            recorded_at=now,
                        )
                    )
            report.added += len(new)
        except IntegrityError:
            # Someone added one of these meanwhile: one at a time, theirs standing.
            for number, reason in new.items():
                before = await _listed(session, [number])
                await block_number(session, number, source=source, reason=reason)
                if before:
                    report.already += 1
                else:
                    report.added += 1


async def _listed(session: AsyncSession, numbers: list[str]) -> set[str]:
    found = await session.exec(
        select(DoNotContact.number).where(
            col(DoNotContact.scope) == GLOBAL, col(DoNotContact.number).in_(numbers)
        )
    )
    return set(found.all())


async def exported_rows(runtime: Runtime, page: int = 5000) -> AsyncIterator[list[list[Any]]]:
    """The global list, oldest entry first, read a page at a time (keyset on id)."""
    after = 0
    while True:
        async with read_scope(runtime.sessions) as session:
            rows = list(
                (
                    await session.exec(
                        select(DoNotContact)
                        .where(col(DoNotContact.scope) == GLOBAL, col(DoNotContact.id) > after)
                        .order_by(col(DoNotContact.id))
                        .limit(page)
                    )
                ).all()
            )
        if not rows:
            return
        yield [[e.number, e.source, e.reason or "", e.created_at.isoformat()] for e in rows]
        after = rows[-1].id or after
