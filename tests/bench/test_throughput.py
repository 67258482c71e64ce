"""`dialer bench throughput`: one short run of the real thing, read as a program reads it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dialer.cli import main


def test_a_short_run_prints_its_figures_as_json_on_its_last_line() -> None:
    args = "bench throughput --seconds 4 --contacts 3000 --api-requests 50 --json"
    result = CliRunner().invoke(main, args.split())
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    for key in (
        "finals_per_s",
        "baseline_finals_per_s",
        "ratio",
        "worker_cpu_ms_per_notification",
        "redis_commands_per_notification",
        "sent_to_final_p99_s",
    ):
        assert key in figures
    assert figures["finals"] == round(figures["finals_per_s"] * 4)
    assert figures["finals_per_s"] > 0 and figures["baseline_finals_per_s"] > 0
    # The ratio is of the unrounded rates, so it may differ from one of the printed ones by a cent.
    assert figures["ratio"] == pytest.approx(
        figures["finals_per_s"] / figures["baseline_finals_per_s"], abs=0.011
    )
    assert figures["sql_commits_per_notification"] is None  # SQLite keeps no count
    assert 0 < figures["sent_to_final_p50_s"] <= figures["sent_to_final_p99_s"]
    assert figures["redis_commands_per_notification"] > 0
    assert figures["worker_cpu_ms_per_notification"] > 0
    assert figures["api_requests"] == figures["api_accepted"] == 50
    assert 0 < figures["api_p50_ms"] <= figures["api_p99_ms"]
    assert "API while dialling: 50 of 50 POSTs accepted" in result.output
