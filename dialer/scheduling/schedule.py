"""A campaign's schedule: between which moments, on which weekdays, inside which daily window."""

from __future__ import annotations

from datetime import date, time
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dialer.bounds import LocalTime, Moment, is_stored

__all__ = ["Schedule"]


class Schedule(BaseModel):
    """When contacts may be called: between start and end, on these weekdays, inside the daily
    window in each recipient's own time zone, never on a holiday."""

    model_config = ConfigDict(extra="forbid")

    start_at: Moment | None = None
    end_at: Moment | None = None
    # 0 is Monday.
    weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6], min_length=1, max_length=7
    )
    window_start: LocalTime = time(9, 0)
    window_end: LocalTime = time(20, 0)
    holidays: list[date] = Field(default_factory=list, max_length=1000)
    # For numbers whose zone the number itself does not settle (and no time-zone column).
    timezone: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(not 0 <= day <= 6 for day in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return sorted(set(days))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    @model_validator(mode="after")
    def _order(self, info: ValidationInfo) -> Self:
        if is_stored(info):
            return self
        for name in ("start_at", "end_at"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{name} needs a time zone offset")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self
