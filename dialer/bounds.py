"""Bounded input types: every id, instant and time of day the API takes has a range, so that no
value can overflow a column, a date calculation or a comparison further in."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, ValidationInfo, WithJsonSchema

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "MAX_ID",
    "STORED",
    "AfterId",
    "LocalTime",
    "Moment",
    "RowId",
    "is_stored",
    "local_time",
    "sane_moment",
]

# Ids are BIGINT on PostgreSQL and INTEGER (64 bits) on SQLite.
MAX_ID = 2**63 - 1
# Far enough either way for any send time or appointment; near enough that adding a year of
# retries or shifting by any UTC offset stays inside what datetime can hold.
EARLIEST_YEAR = 2000
LATEST_YEAR = 2199


# Validation context for rows read back from the database: what was stored before a rule existed
# is shown as it is (and refused where it is used), never a 500 on reading it.
STORED = {"stored": True}


def is_stored(info: ValidationInfo) -> bool:
    """Whether this validation reads back a stored row (validated with STORED)."""
    return isinstance(info.context, dict) and bool(info.context.get("stored"))


def sane_moment(value: datetime, info: ValidationInfo) -> datetime:
    if is_stored(info):
        return value
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


def local_time(value: time, info: ValidationInfo) -> time:
    if value.tzinfo is not None and not is_stored(info):
        raise ValueError(
            'a time of day in each person\'s own time zone takes no UTC offset: "09:00", '
            'not "09:00+09:00" (set the zone with timezone)'
        )
    return value


Moment = Annotated[datetime, AfterValidator(sane_moment)]
# Not JSON Schema's "time" format: RFC 3339 gives that one an offset, which this must not have.
LocalTime = Annotated[
    time,
    AfterValidator(local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "A time of day in each person's own zone, without an offset",
            "examples": ["09:00"],
        }
    ),
]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID, description="only rows with a larger id")]
