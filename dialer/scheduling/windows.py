"""Calling windows: whether a person may be called now, in their own time zone, and if not, when.

Pure functions of the clock, the schedule and the zones; no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

from dialer.scheduling.schedule import Schedule

__all__ = ["NoOpening", "next_opening", "zones_for"]

_UNKNOWN = "Etc/Unknown"
_SEARCH_DAYS = 800


class NoOpening(ValueError):
    """The schedule never opens again (every remaining day excluded)."""


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zones_for(number: str, column: str | None, fallback: str | None) -> tuple[ZoneInfo, ...]:
    """The zones a person may be in: the row's own zone, else the one the number settles, else
    the campaign's zone, else every zone the number might be in (the window must be open in all).
    """
    if column:
        return (_zone(column),)
    try:
        names = [
            n
            for n in number_zones.time_zones_for_number(phonenumbers.parse(number))
            if n != _UNKNOWN
        ]
    except phonenumbers.NumberParseException:
        names = []
    if len(names) == 1:
        return (_zone(names[0]),)
    if fallback:
        return (_zone(fallback),)
    if names:
        return tuple(_zone(n) for n in names)
    return (_zone("UTC"),)


def _open_day(day: date, schedule: Schedule) -> bool:
    return day.weekday() in schedule.weekdays and day not in schedule.holidays


def _opening_in(moment: datetime, schedule: Schedule, zone: ZoneInfo) -> datetime:
    """The first instant at or after `moment` when the window is open in `zone`."""
    local = moment.astimezone(zone)
    if _open_day(local.date(), schedule):
        if schedule.window_start <= local.time() < schedule.window_end:
            return moment
        if local.time() < schedule.window_start:
            return datetime.combine(local.date(), schedule.window_start, zone).astimezone(UTC)
    day = local.date()
    for _ in range(_SEARCH_DAYS):
        day += timedelta(days=1)
        if _open_day(day, schedule):
            return datetime.combine(day, schedule.window_start, zone).astimezone(UTC)
    raise NoOpening(f"no open day in the next {_SEARCH_DAYS} days")


def next_opening(now: datetime, schedule: Schedule, zones: Sequence[ZoneInfo]) -> datetime | None:
    """None if `now` is inside the window in every one of `zones` (and the campaign has begun);
    else the first later instant when it is."""
    candidate = max(now, schedule.start_at) if schedule.start_at else now
    for _ in range(_SEARCH_DAYS):
        latest = max(_opening_in(candidate, schedule, zone) for zone in zones)
        if latest == candidate:
            return None if candidate == now else candidate
        candidate = latest
    raise NoOpening("the zones' windows never overlap")
