"""`dialer bench ...` and `dialer chaos` refuse values they cannot run with, before they start
anything: a usage error naming the option, not a division by zero minutes in."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.cli.bench import bench, chaos

_REFUSED = [
    (bench, ["schedule", "--rate", "0"]),
    (bench, ["schedule", "--rate", "-5"]),
    (bench, ["schedule", "--seconds", "0"]),
    (bench, ["schedule", "--workers", "0"]),
    (bench, ["throughput", "--seconds", "-1"]),
    (bench, ["throughput", "--api-requests", "-1"]),
    (bench, ["throughput", "--contacts", "0"]),
    (bench, ["pacing", "--rate", "nan"]),
    (bench, ["pacing", "--cpu-hog", "1000"]),
    (bench, ["pacing", "--jitter", "-0.1"]),
    (bench, ["pacing", "--sandbox-rate", "0"]),
    (bench, ["import", "--rows", "0"]),
    (bench, ["import", "--batch-size", "-3"]),
    (bench, ["export", "--bad-rows", "-1"]),
    (bench, ["console", "--requests", "0"]),
    (bench, ["templates", "--processes", "0"]),
    (bench, ["waiting", "--ticks", "0"]),
    (chaos, ["--fault-rate", "1.5"]),
    (chaos, ["--kill-every", "0"]),
    (chaos, ["--max-minutes", "inf"]),
    (chaos, ["--workers", "100000"]),
]


@pytest.mark.parametrize(("command", "args"), _REFUSED, ids=[" ".join(a) for _, a in _REFUSED])
def test_a_value_it_cannot_run_with_is_a_usage_error(
    command: click.Command, args: list[str]
) -> None:
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2, result.output
    assert args[-2] in result.output


@settings(max_examples=60, deadline=None)
@given(
    option=st.sampled_from(
        [["schedule", "--rate"], ["schedule", "--seconds"], ["pacing", "--rate"]]
    ),
    value=st.one_of(
        st.floats(max_value=0),
        st.sampled_from(["nan", "inf", "-inf", "1e999", "", "fast", "1/0"]),
    ),
)
def test_no_rate_or_duration_that_is_not_a_positive_number_starts(
    option: list[str], value: float | str
) -> None:
    result = CliRunner().invoke(bench, [*option, str(value)])
    assert result.exit_code == 2, result.output
