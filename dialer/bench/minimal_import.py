"""The baseline of `dialer bench import`: what a minimal script gets from the same file on the
same database. It reads the CSV, normalises each number to E.164 by a rule of thumb for Japanese
numbers (digits only; a leading 0 is +81), drops the invalid and the repeats, and bulk-writes
the rest into a table of its own (executemany on SQLite, COPY on PostgreSQL). No campaign, no
issues kept, no do-not-contact list, no tallies: the floor under the importer's own work."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

__all__ = ["minimal_import"]

_NOT_DIGIT = re.compile(r"\D")
_TABLE = "bench_minimal_contact"
_BATCH = 20_000


def _e164(raw: str) -> str | None:
    digits = _NOT_DIGIT.sub("", raw)
    if raw.lstrip().startswith("+"):
        number = digits
    elif digits.startswith("0"):
        number = "81" + digits[1:]
    else:
        return None
    return "+" + number if 11 <= len(number) <= 15 else None


def minimal_import(engine: sa.Engine, path: Path) -> tuple[int, int, float]:
    """(rows read, rows written, seconds) for the file at `path`."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {_TABLE}"))
        conn.execute(
            sa.text(
                f"CREATE TABLE {_TABLE} (phone VARCHAR(20) PRIMARY KEY, name TEXT, amount TEXT)"
            )
        )
    rows = written = 0
    started = time.perf_counter()
    with engine.begin() as conn, path.open(encoding="utf-8", newline="") as stream:
        raw: Any = conn.connection.driver_connection
        cursor = raw.cursor()
        reader = csv.reader(stream)
        next(reader)  # the header
        seen: set[str] = set()
        batch: list[tuple[str, str, str]] = []

        def flush() -> None:
            if postgres:
                with cursor.copy(f"COPY {_TABLE} (phone, name, amount) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {_TABLE} VALUES (?, ?, ?)", batch)
            batch.clear()

        for phone, name, amount in reader:
            rows += 1
            number = _e164(phone)
            if number is None or number in seen:
                continue
            seen.add(number)
            batch.append((number, name, amount))
            written += 1
            if len(batch) == _BATCH:
                flush()
        flush()
    seconds = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {_TABLE}"))
    return rows, written, seconds
