"""The time the dialer runs on: the real clock, or, for tests and rehearsals, the real clock moved
by an offset kept in the file DIALER_CLOCK_FILE names. Every process reading the same file agrees,
so a test can move a whole deployment (web, workers) to tomorrow 08:59 in the recipients' zone."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

__all__ = ["CLOCK_FILE_VARIABLE", "now", "set_offset"]

CLOCK_FILE_VARIABLE = "DIALER_CLOCK_FILE"

_cached: tuple[float, float] = (-1.0, 0.0)  # (the file's mtime, its offset in seconds)


def _offset(path: str) -> float:
    global _cached
    try:
        mtime = os.stat(path).st_mtime_ns / 1e9
    except FileNotFoundError:
        return 0.0
    if mtime != _cached[0]:
        text = Path(path).read_text().strip()
        _cached = (mtime, float(text) if text else 0.0)
    return _cached[1]


def now() -> datetime:
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    moment = datetime.now(UTC)
    return moment + timedelta(seconds=_offset(path)) if path else moment


def set_offset(path: Path, seconds: float) -> None:
    """Move the clock of every process reading `path` (atomically: never a half-written file)."""
    partial = path.with_suffix(".partial")
    partial.write_text(f"{seconds}\n")
    os.replace(partial, path)
