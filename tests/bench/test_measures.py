from __future__ import annotations

from datetime import UTC, datetime

from dialer.bench.measures import quantile, utc


def test_quantiles_of_few_values() -> None:
    assert quantile([], 0.99) == 0.0
    assert quantile([2.0], 0.5) == 2.0
    assert quantile([float(i) for i in range(1, 101)], 0.5) == 50.5
    assert quantile([float(i) for i in range(1, 101)], 0.99) == 99.01


def test_a_stored_moment_reads_as_utc_from_text_or_a_naive_datetime() -> None:
    expected = datetime(2026, 12, 3, 5, 30, 0, 250_000, tzinfo=UTC)
    assert utc("2026-12-03 05:30:00.250000") == expected
    assert utc(datetime(2026, 12, 3, 5, 30, 0, 250_000)) == expected
