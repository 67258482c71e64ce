"""An export process: `python -m dialer.campaigns.export_part` reads what to export as JSON on
stdin (the database, the statement of the file's rows for a range of ids, the ranges this
process makes, and how to make a row: results.csv's maker, or "issues"), and writes, for each
range in order, the range's CSV as one frame (dialer.frames): the text in UTF-8.

Only the standard library, the database's driver and the row makers are imported: the process
is started for one download and should start fast."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from dialer.campaigns.issue_rows import issue_rows
from dialer.campaigns.result_rows import ResultRows
from dialer.frames import write_frame

__all__ = ["frames", "main"]

# A frame's CSV is written into a pipe the web process reads from while the next is made.
_PIPE_BYTES = 1 << 20


def _connect(database: dict[str, str]) -> Any:
    if "sqlite" in database:
        uri = Path(database["sqlite"]).resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=30)
    import psycopg

    return psycopg.connect(database["postgresql"], autocommit=True, options="-c jit=off")


def _maker(spec: Any) -> Callable[[Sequence[Sequence[Any]]], list[list[Any]]]:
    return issue_rows if spec == "issues" else ResultRows.from_spec(spec).rows


def frames(spec: dict[str, Any]) -> Iterator[bytes]:
    """Each range's CSV, in the order of `spec["ranges"]`."""
    make = _maker(spec["rows"])
    sql: str = spec["sql"]
    params = spec["params"]
    slots: dict[str, int] | None = spec.get("slots")
    connection = _connect(spec["database"])
    try:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for lo, hi in spec["ranges"]:
            if slots is None:
                bound: Any = {**params, "lo": lo, "hi": hi}
            else:
                bound = list(params)
                bound[slots["lo"]], bound[slots["hi"]] = lo, hi
            found = connection.execute(sql, bound).fetchall()
            writer.writerows(make(found))
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    finally:
        connection.close()


def _widen(out: BinaryIO) -> None:
    try:
        import fcntl

        fcntl.fcntl(out.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (OSError, AttributeError, ValueError):
        pass  # not a pipe, or not Linux: the frames still go, a little slower


def main() -> None:
    spec = json.load(sys.stdin)
    out = sys.stdout.buffer
    _widen(out)
    for frame in frames(spec):
        write_frame(out, frame)


if __name__ == "__main__":
    main()
