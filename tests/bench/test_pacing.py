"""`dialer bench pacing`'s arithmetic, and one short run of the real thing."""

from __future__ import annotations

from dialer.bench.pacing import figures_from_traffic, most_in_one_second, run_pacing_bench

CALL = "POST /voice/simple/playbacks/"


def test_most_in_one_second_counts_a_sliding_window() -> None:
    assert most_in_one_second([]) == 0
    assert most_in_one_second([0.0, 0.5, 0.99, 1.0, 1.2, 1.6]) == 4
    assert most_in_one_second([0.125 * i for i in range(30)]) == 8


def test_figures_count_calls_from_the_first_call_request_for_the_measured_seconds() -> None:
    traffic = [
        {"at": 100.0, "request": CALL, "accepted": True},
        {"at": 100.1, "request": "GET /voice/calls/x/", "accepted": True},
        {"at": 100.2, "request": CALL, "accepted": False},
        {"at": 100.5, "request": CALL, "accepted": True},
        {"at": 101.5, "request": CALL, "accepted": True},
        {"at": 102.5, "request": CALL, "accepted": True},  # after the 2 measured seconds
    ]
    f = figures_from_traffic(traffic, rate=2, sandbox_rate=2, workers=1, seconds=2)
    assert (f.calls, f.achieved_per_s, f.responses_429) == (3, 1.5, 1)
    assert (f.max_in_any_1s_window, f.max_requests_in_any_1s_window) == (2, 3)
    assert f.last_429_after_s == 0.2


def test_a_short_run_keeps_to_the_rate_without_a_429() -> None:
    # With the network's delay each way at random: the provider counts a request late.
    f = run_pacing_bench(5, 2, 4, jitter_s=0.05)
    assert f.jitter_s == 0.05
    assert f.calls >= 16
    # A request holds its place in the window until a second after its answer, so however
    # late it reached the sandbox, the sandbox never saw more than the rate in a second.
    assert f.max_requests_in_any_1s_window <= 5
    assert f.responses_429 == 0
