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
