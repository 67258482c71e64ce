"""`dialer bench waiting`: Redis holds one hopper batch however many contacts wait."""

from __future__ import annotations

from dialer.bench.waiting import run_waiting_bench
from dialer.config import get_settings


def test_redis_holds_one_batch_however_many_contacts_wait(database_url: str) -> None:
    batch = get_settings().hopper_batch
    small = run_waiting_bench(batch + 100, database_url, ticks=3)
    large = run_waiting_bench(batch * 5, database_url, ticks=3)
    assert large.contacts > small.contacts > batch
    assert small.queued_jobs == large.queued_jobs == batch
    assert small.redis_keys == large.redis_keys == batch + 1  # the jobs and arq's queue
