from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dialer.scheduling.schedule import Schedule
from dialer.scheduling.windows import NoOpening, next_opening, zones_for

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# 2026-11-23 is a Monday.
@pytest.mark.parametrize(
    ("now", "schedule", "zones", "expected"),
    [
        # 10:00 in Tokyo: open.
        ("2026-11-23 01:00", Schedule(), [TOKYO], None),
        # 08:59 in Tokyo: opens at 09:00 Tokyo, 00:00 UTC.
        ("2026-11-22 23:59", Schedule(), [TOKYO], "2026-11-23 00:00"),
        # 20:00 in Tokyo is closed (the window is [09:00, 20:00)): tomorrow 09:00.
        ("2026-11-23 11:00", Schedule(), [TOKYO], "2026-11-24 00:00"),
        # Weekdays only, on Saturday night: Monday 09:00.
        (
            "2026-11-28 12:00",
            Schedule(weekdays=[0, 1, 2, 3, 4]),
            [TOKYO],
            "2026-11-30 00:00",
        ),
        # A holiday is skipped.
        (
            "2026-11-23 01:00",
            Schedule(holidays=[date(2026, 11, 23)]),
            [TOKYO],
            "2026-11-24 00:00",
        ),
        # Two zones: open only when open in both (NY 09:00-20:00 and LA 09:00-20:00 overlap
        # 12:00-20:00 New York time, 17:00-01:00 UTC).
        ("2026-11-23 15:00", Schedule(), [NEW_YORK, LOS_ANGELES], "2026-11-23 17:00"),
        ("2026-11-23 18:00", Schedule(), [NEW_YORK, LOS_ANGELES], None),
        # Not before the campaign's start.
        (
            "2026-11-23 01:00",
            Schedule(start_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC)),
            [TOKYO],
            "2026-11-25 03:00",
        ),
        # A custom window, across DST-free Tokyo.
        (
            "2026-11-23 01:00",
            Schedule(window_start=time(13, 0), window_end=time(17, 30)),
            [TOKYO],
            "2026-11-23 04:00",
        ),
    ],
)
def test_next_opening(
    now: str, schedule: Schedule, zones: list[ZoneInfo], expected: str | None
) -> None:
    assert next_opening(utc(now), schedule, zones) == (utc(expected) if expected else None)


def test_a_daylight_saving_change_keeps_the_local_window() -> None:
    # New York leaves DST on 2026-11-01: 09:00 local is 13:00 UTC before, 14:00 UTC after.
    before = next_opening(utc("2026-10-30 12:00"), Schedule(), [NEW_YORK])
    after = next_opening(utc("2026-11-02 12:00"), Schedule(), [NEW_YORK])
    assert (before, after) == (utc("2026-10-30 13:00"), utc("2026-11-02 14:00"))


def test_a_schedule_that_never_opens_says_so() -> None:
    mondays = [date(2026, 11, 23) + timedelta(weeks=i) for i in range(200)]
    schedule = Schedule(weekdays=[0], holidays=mondays)
    with pytest.raises(NoOpening):
        next_opening(utc("2026-11-23 12:00"), schedule, [TOKYO])


@pytest.mark.parametrize(
    ("number", "column", "fallback", "expected"),
    [
        ("+819012345678", None, None, ["Asia/Tokyo"]),
        ("+14155550100", None, None, ["America/Los_Angeles"]),
        ("+14155550100", "Asia/Tokyo", None, ["Asia/Tokyo"]),
        ("+442079460000", None, "Europe/Paris", ["Europe/London"]),
        ("+447911123456", None, "Europe/London", ["Europe/London"]),
        ("+18005550100", None, "America/Chicago", ["America/Chicago"]),
    ],
)
def test_zones_for(
    number: str, column: str | None, fallback: str | None, expected: list[str]
) -> None:
    assert [z.key for z in zones_for(number, column, fallback)] == expected


def test_a_number_in_several_zones_with_no_fallback_must_fit_them_all() -> None:
    zones = [z.key for z in zones_for("+18005550100", None, None)]
    assert len(zones) > 1 and "America/New_York" in zones
