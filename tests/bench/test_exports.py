"""`dialer bench export`: the downloads it times hold every contact and every issue."""

from __future__ import annotations

from dialer.bench.exports import run_export_bench


def test_the_downloads_hold_every_contact_and_every_issue(database_url: str) -> None:
    figures = run_export_bench(3_000, 700, database_url)
    assert 2_900 < figures.campaign_contacts < 3_000  # 1% invalid, 1% repeated
    assert figures.results_rows == figures.campaign_contacts
    assert figures.issues_rows == 700
    assert figures.baseline_rows_per_s > 0 and figures.ratio > 0
    assert figures.web_rss_peak_mb >= figures.web_rss_before_mb > 0
    assert figures.export_processes == 0  # too small a campaign to start them
