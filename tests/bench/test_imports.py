"""`dialer bench import`: the generated file has the promised mix, and every row is counted."""

from __future__ import annotations

from dialer.bench.imports import run_import_bench


def test_a_small_import_accounts_for_every_row(database_url: str) -> None:
    figures = run_import_bench(5_000, database_url, batch_size=1_000)
    report = figures.report
    assert figures.rows == report.rows == 5_000
    assert report.imported + report.duplicate + report.invalid + report.suppressed == 5_000
    assert 0 < report.invalid < 100 and 0 < report.duplicate < 100
    assert figures.rows_per_s > 0 and figures.peak_rss_mb > 0
    assert set(figures.as_dict()) >= {"rows", "rows_per_s", "peak_rss_mb", "ratio"}
    # The minimal script keeps what the importer keeps: the valid numbers, once each.
    assert figures.baseline_written == report.imported + report.suppressed
    assert figures.baseline_rows_per_s > 0
