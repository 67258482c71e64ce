"""The chaos run at a small size: workers killed, Redis restarted, the provider and the
webhook receiver failing at 10% each; every contact final and nothing over-dialled, orphaned
or lost. (The acceptance size, 2,000 contacts and 4 workers, is in docs/development.md.)"""

from __future__ import annotations

import pytest

from dialer.chaos.run import run_chaos


# About a minute and a half on this machine; the run gives up by itself after eight.
@pytest.mark.timeout(600)
def test_a_small_campaign_survives_the_storm() -> None:
    f = run_chaos(60, 3, kill_every_s=3.0, redis_every_s=15.0, max_minutes=8.0)
    assert f.kills > 0 and f.redis_restarts > 0, f
    assert f.contacts > 50 and f.final == f.contacts, f
    assert f.over_dialled == 0, f
    assert f.orphan_provider_calls == 0, f
    assert f.webhooks_not_written == 0 and f.webhooks_not_taken == 0, f
    # A worker killed before its request left leaves an attempt taken back, never `unknown`.
    assert f.unknown_never_sent == 0, f
    assert f.stalled_after_s is None, f


@pytest.mark.timeout(300)
def test_a_run_that_stops_moving_is_stopped_and_says_so() -> None:
    # A second with nothing final yet counts as a stall here: it stops at the start.
    f = run_chaos(
        20, 1, kill_every_s=60.0, redis_every_s=600.0, max_minutes=4.0, stall_minutes=1 / 60
    )
    assert f.stalled_after_s is not None and f.seconds < 120, f
    assert f.final < f.contacts, f
