"""When a notification goes: a send time (absolute, or local to the person), an offset before
an appointment, and the calling window it must keep to in the person's own time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialer.scheduling.policies import RetryPolicy
from dialer.scheduling.schedule import Schedule
from dialer.scheduling.windows import next_opening, zones_for

__all__ = ["Plan", "parse_offset", "person_zones", "plan_send", "window_of"]

_OFFSET = re.compile(r"([0-9]{1,6})([dhm])")
_UNIT_S = {"d": 86400, "h": 3600, "m": 60}
MAX_OFFSET = timedelta(days=366)


def parse_offset(text: str) -> timedelta:
    """ "24h", "90m", "1d", "1h30m" as a duration of at most a year; ValueError for anything
    else."""
    compact = text.strip().lower()
    parts = _OFFSET.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"{text[:40]!r} is not a duration like 24h, 90m, 1d or 1h30m")
    offset = timedelta(seconds=sum(int(n) * _UNIT_S[u] for n, u in parts))
    if offset > MAX_OFFSET:
        raise ValueError(f"{text[:40]!r} is more than {MAX_OFFSET.days} days")
    return offset


def person_zones(number: str, timezone: str | None) -> tuple[ZoneInfo, ...]:
    return zones_for(number, timezone, None)


def window_of(policy: RetryPolicy) -> Schedule | None:
    if policy.window_start is None or policy.window_end is None:
        return None
    return Schedule(window_start=policy.window_start, window_end=policy.window_end)


@dataclass(frozen=True)
class Plan:
    """Go at `due_at`; or, with `expired` set, not at all, for that reason."""

    due_at: datetime
    expired: str | None = None


def plan_send(
    at: datetime,
    policy: RetryPolicy,
    zones: tuple[ZoneInfo, ...],
    deadline: datetime | None = None,
) -> Plan:
    """When a notification due `at` goes, by its window: then, at the window's next opening,
    or never (the policy says expire, or the opening comes at or after `deadline`)."""
    window = window_of(policy)
    opening = next_opening(at, window, zones) if window is not None else None
    if opening is None:
        return Plan(at)
    assert window is not None
    local = at.astimezone(zones[0]).strftime("%H:%M")
    outside = (
        f"{local} {zones[0].key} is outside the calling window "
        f"{window.window_start:%H:%M}-{window.window_end:%H:%M}"
    )
    if policy.outside_window == "expire":
        return Plan(at, expired=outside)
    if deadline is not None and opening >= deadline:
        return Plan(at, expired=f"{outside}, and it opens too late")
    return Plan(opening)
