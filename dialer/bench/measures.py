"""Small helpers the benchmarks share to read what they measured."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

__all__ = ["quantile", "utc"]


def quantile(values: list[float], q: float) -> float:
    """The `q` quantile (0.5, 0.99) of `values`; 0 for none."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def utc(value: object) -> datetime:
    """A stored moment (naive UTC, or its ISO text on SQLite) as an aware one."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC)
