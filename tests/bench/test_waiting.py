"""`dialer bench waiting`: Redis holds the same few jobs however many contacts wait."""

from __future__ import annotations

import math

from dialer.bench.waiting import run_waiting_bench
from dialer.config import get_settings
from dialer.dispatch.hopper import LOOKAHEAD_S


def test_redis_holds_the_same_jobs_however_many_contacts_wait(database_url: str) -> None:
    settings = get_settings()
    batch = settings.hopper_batch
    # The hopper lines up two seconds of the account's call rate (20/s by default), at most
    # one batch.
    lined_up = min(batch, math.ceil(settings.limits_for("xoxzo").calls * LOOKAHEAD_S))
    small = run_waiting_bench(batch + 100, database_url, ticks=3)
    large = run_waiting_bench(batch * 5, database_url, ticks=3)
    assert large.contacts > small.contacts > batch
    jobs = math.ceil(lined_up / settings.dial_batch)  # one job per batch of an account's dials
    assert small.queued_jobs == large.queued_jobs == jobs
    # The jobs, arq's queue, and the ids the hopper handed out in the last seconds.
    assert small.redis_keys == large.redis_keys == jobs + 2
