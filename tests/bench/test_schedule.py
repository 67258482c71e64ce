"""`dialer bench schedule`: one short run of the real thing, read as a program reads it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from dialer.bench.schedule import lateness
from dialer.cli import main

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def test_lateness_counts_an_undialled_send_as_late_as_the_end_and_notes_an_early_one() -> None:
    planned = {1: T0, 2: T0 + timedelta(seconds=1), 3: T0 + timedelta(seconds=2)}
    sent = {1: T0 + timedelta(seconds=0.25), 2: T0 + timedelta(seconds=0.5)}
    values, undialled, early = lateness(planned, sent, T0 + timedelta(seconds=10))
    assert values == [0.25, -0.5, 8.0]
    assert (undialled, early) == (1, 1)


def test_a_short_run_dials_every_send_and_none_early() -> None:
    result = CliRunner().invoke(
        main, ["bench", "schedule", "--rate", "10", "--seconds", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["notifications"] == 30
    assert figures["undialled"] == 0 and figures["early"] == 0
    assert 0 <= figures["lateness_p50_s"] <= figures["lateness_p99_s"] <= figures["lateness_max_s"]
    assert figures["dialled_per_s"] > 0
