"""`dialer bench waiting`: what Redis holds while a campaign of N contacts waits to be dialled.

Contacts wait in SQL; the hopper moves at most one batch of due work into Redis and adds nothing
while that batch is still queued, so Redis's size does not depend on the campaign's."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass

from arq.constants import default_queue_name

from dialer.bench.imports import bench_campaign, bench_setting
from dialer.bench.stack import ALWAYS
from dialer.campaigns.service import start_campaign
from dialer.config import get_settings
from dialer.contacts.importer import import_contacts
from dialer.db import make_sync_engine, session_scope
from dialer.dispatch.hopper import run_hopper
from dialer.models import Campaign
from dialer.redis_embedded import EmbeddedRedis
from dialer.runtime import Runtime

__all__ = ["WaitingFigures", "run_waiting_bench"]

# Every day, all day: every contact is due the moment the campaign starts.


@dataclass(frozen=True)
class WaitingFigures:
    contacts: int
    ticks: int
    queued_jobs: int
    redis_keys: int
    redis_used_mb: float
    redis_empty_mb: float
    slowest_tick_ms: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def _measure(
    database_url: str, redis_url: str, campaign_id: int, ticks: int
) -> dict[str, float]:
    settings = get_settings().model_copy(
        update={"database_url": database_url, "redis_url": redis_url}
    )
    runtime = await Runtime.open(settings, redis_url)
    try:
        empty = int((await runtime.redis.info("memory"))["used_memory"])
        async with session_scope(runtime.sessions) as session:
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            await start_campaign(session, campaign)
        slowest = 0.0
        for _ in range(ticks):
            started = time.perf_counter()
            await run_hopper(runtime)
            slowest = max(slowest, time.perf_counter() - started)
        used = int((await runtime.redis.info("memory"))["used_memory"])
        return {
            "queued_jobs": await runtime.redis.zcard(default_queue_name),
            "redis_keys": await runtime.redis.dbsize(),
            "used": used,
            "empty": empty,
            "slowest": slowest,
        }
    finally:
        await runtime.close()


def run_waiting_bench(contacts: int, database_url: str | None, ticks: int) -> WaitingFigures:
    with bench_setting(contacts, database_url) as (url, csv_path):
        engine = make_sync_engine(url)
        try:
            campaign_id = bench_campaign(engine, f"bench waiting {contacts}", ALWAYS)
            with csv_path.open("rb") as stream:
                report = import_contacts(engine, campaign_id, stream, filename=csv_path.name)
        finally:
            engine.dispose()
        with EmbeddedRedis() as redis:
            found = asyncio.run(_measure(url, redis.url, campaign_id, ticks))
    return WaitingFigures(
        contacts=report.imported,
        ticks=ticks,
        queued_jobs=int(found["queued_jobs"]),
        redis_keys=int(found["redis_keys"]),
        redis_used_mb=round(found["used"] / 2**20, 2),
        redis_empty_mb=round(found["empty"] / 2**20, 2),
        slowest_tick_ms=round(found["slowest"] * 1000, 1),
    )
