from __future__ import annotations

from dialer.bench.templates import run_template_bench


def test_the_template_bench_measures_both_ways_and_the_spin() -> None:
    figures = run_template_bench(50, 2)
    assert figures.renders == 50
    assert figures.in_process_per_s > 0 and figures.pool_per_s > 0
    assert figures.pool_concurrent_per_s > 0 and figures.ratio > 0
    # Killed at its budget, tried once more, killed again: twice the 2 s budget.
    assert figures.spin_held_s >= 4.0
