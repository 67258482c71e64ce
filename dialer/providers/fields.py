"""Defensive readers for the fields of provider answers and callbacks: each value is typed and
bounded, or the whole report is refused with the field's name (MalformedField), so that no
callback can store an infinite duration, a negative cost or a date in year 1."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from dialer.bounds import EARLIEST_YEAR, LATEST_YEAR

__all__ = ["MAX_AMOUNT", "MAX_SECONDS", "MalformedField", "amount", "integer", "moment", "seconds"]

# A call lasts hours at most; a week leaves room for any clock and any conference.
MAX_SECONDS = 7 * 86400
# Credits or dollars for one call or message.
MAX_AMOUNT = 1_000_000.0


class MalformedField(ValueError):
    """A field of a provider's report that is not what its documents say it is."""

    def __init__(self, field: str, value: Any, expected: str) -> None:
        shown = repr(value)
        super().__init__(f"{field}: {shown[:60]} is not {expected}")
        self.field = field


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _finite(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise MalformedField(field, value, "a number")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise MalformedField(field, value, "a number") from None
    if not math.isfinite(number):
        raise MalformedField(field, value, "a finite number")
    return number


def _number_in(value: Any, field: str, high: float, what: str) -> float | None:
    """A finite number from 0 to `high`, or None when the field is absent."""
    if _absent(value):
        return None
    number = _finite(value, field)
    if not 0 <= number <= high:
        raise MalformedField(field, value, what)
    return number


def seconds(value: Any, field: str) -> int | None:
    """A duration in whole seconds, 0 to a week."""
    number = _number_in(value, field, MAX_SECONDS, f"a duration of 0 to {MAX_SECONDS} s")
    return None if number is None else int(number)


def amount(value: Any, field: str) -> float | None:
    """A charge: not negative, not absurd."""
    return _number_in(value, field, MAX_AMOUNT, f"an amount of 0 to {MAX_AMOUNT:g}")


def integer(value: Any, field: str, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """A whole number in [low, high], written as a number or as digits."""
    if _absent(value):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().lstrip("-").isdigit():
        number = int(value.strip()) if len(value) < 20 else high + 1
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise MalformedField(field, value, "a whole number")
    if not low <= number <= high:
        raise MalformedField(field, value, f"a whole number of {low} to {high}")
    return number


def moment(value: Any, field: str, fmt: str | None = None) -> datetime | None:
    """An instant: ISO 8601 (or `fmt`), read as UTC when it names no offset."""
    if _absent(value):
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise MalformedField(field, value, "a date and time")
    try:
        if fmt is not None:
            parsed = datetime.strptime(value, fmt)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedField(field, value, "a date and time") from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise MalformedField(field, value, f"a date in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
