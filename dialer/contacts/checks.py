"""Each row of a contacts CSV checked on its own: its phone number, time zone, send time and
the variables the campaign needs, and its variables as JSON. Nothing here depends on other
rows or on the database, so it runs in the importing process or, for a large file, in the
processes that parse the file's parts beside it (dialer.contacts.parts)."""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from dialer.bounds import EARLIEST_YEAR, LATEST_YEAR
from dialer.contacts.reader import Row
from dialer.creation import local_instant, stored_utc
from dialer.phone import InvalidNumber, fast_normaliser, to_e164
from dialer.scheduling.windows import zones_for

__all__ = ["Checks", "Good", "Issue", "json_writer", "row_number", "send_time", "stage_time"]

_quote = json.encoder.encode_basestring

# A row checked: to import (its number as an integer for the duplicate check, the number, the
# row, its variables as JSON, its zone, its send time as staged, its phone as uploaded, and for
# a campaign with a script the values its texts use), or an issue (row, phone as uploaded,
# reason).
Good = tuple[int, str, int, str, str | None, str | None, str, tuple[str, ...] | None]
Issue = tuple[int, str, str]


def json_writer(names: list[str]) -> Callable[[dict[str, str]], str]:
    """JSON for rows whose variables always have these names: what json.dumps writes, with the
    keys encoded once per file instead of once per row."""
    keys = [f"{_quote(name)}:" for name in names]
    if not keys:
        return lambda _variables: "{}"

    def write(variables: dict[str, str]) -> str:
        values = map(_quote, variables.values())
        return "{" + ",".join(map(str.__add__, keys, values)) + "}"

    return write


def send_time(value: str, number: str, zone: str | None, fallback: str | None) -> datetime:
    """A row's send time: ISO 8601 with an offset, or without one the person's local time (the
    row's zone, else the number's, else the campaign's)."""
    shown = repr(value[:40])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{shown} is not a date and time like 2026-11-26T09:30") from None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(f"{shown} is not between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    try:
        return local_instant(moment, zones_for(number, zone, fallback))
    except ValueError as exc:
        raise ValueError(f"{shown}: {exc}") from None


def _sqlite_text() -> Callable[[Any], Any]:
    from sqlalchemy.dialects import sqlite

    made = sqlite.DATETIME().bind_processor(sqlite.dialect())  # type: ignore[no-untyped-call]
    assert made is not None
    return made


# SQLAlchemy's own SQLite storage of a DATETIME, so that the ORM reads these rows back as it
# reads its own; text PostgreSQL reads as a timestamp too.
_SQLITE_TEXT = _sqlite_text()


def stage_time(moment: datetime) -> str:
    text = _SQLITE_TEXT(stored_utc(moment))
    assert isinstance(text, str)
    return text


def row_number(
    phone: str, region: str, fast_e164: Callable[[str], str | None] | None = None
) -> tuple[str | None, str | None]:
    """A row's phone as E.164, or why it is not a number."""
    try:
        return (fast_e164 and fast_e164(phone)) or to_e164(phone, region), None
    except InvalidNumber as exc:
        return None, f"invalid phone number: {exc}"
    except (ValueError, OverflowError, TypeError) as exc:
        # phonenumbers on an input it never expected: that row's problem, not the file's.
        return None, f"invalid phone number: {type(exc).__name__}"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@dataclass(frozen=True)
class Checks:
    """What a row is checked against: the campaign's, worked out once (and sent as it is to the
    processes that check a large file's parts)."""

    # The variables the campaign's texts use, in a fixed order; every row must give them.
    needed: tuple[str, ...]
    region: str
    # The campaign's zone, for a send time without an offset on a number with no zone of its own.
    fallback_zone: str | None
    # The upload's variable names, in the order each row's variables have them.
    names: tuple[str, ...]
    # Whether to keep the values of `needed` of each row imported (a campaign with a script).
    keep_values: bool

    def problem(self, row: Row) -> str | None:
        if row.problem is not None:
            return row.problem
        variables = row.variables
        for name in self.needed:
            value = variables[name]
            if not value or value.isspace():
                return f"missing variable {name!r}"
        if row.timezone is not None and row.timezone not in _zones():
            return f"unknown time zone {row.timezone!r}"
        return None

    def checked(self, rows: Iterator[Row]) -> Iterator[Good | Issue]:
        """Each row as a Good or an Issue, in the rows' order."""
        # Made here, not kept on the instance: a Checks is sent as it is to other processes.
        region, fast_e164 = self.region, fast_normaliser(self.region.upper())
        to_json = json_writer(list(self.names))
        needed = self.needed if self.keep_values else None
        for row in rows:
            problem = self.problem(row)
            number = None
            if problem is None:
                number, problem = row_number(row.phone, region, fast_e164)
            if problem is not None or number is None:
                yield (row.number, row.phone[:64], problem or "invalid")
                continue
            send_at = None
            if row.send_at is not None:
                try:
                    moment = send_time(row.send_at, number, row.timezone, self.fallback_zone)
                except (ValueError, OverflowError) as exc:
                    yield (row.number, row.phone[:64], f"send_at: {exc}")
                    continue
                send_at = stage_time(moment)
            values = tuple(row.variables[name] for name in needed) if needed else None
            yield (
                int(number[1:]),
                number,
                row.number,
                to_json(row.variables),
                row.timezone,
                send_at,
                row.phone[:64],
                values,
            )
