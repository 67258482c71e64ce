"""`dialer bench console`: how long the console takes to answer for a campaign of N contacts,
against one of 1,000 in the same database (the baseline), over real HTTP on loopback.

The big campaign is made to look mid-run: its contacts imported, 60% of them ended with an
attempt each (answered, no answer, busy, failed), 40% still queued, and ten hours of finals per
minute; so every part of the page (counts, chart, rate, recent attempts, uploads, the
estimate's count) reads what it would read in a real one."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

import httpx
from sqlalchemy import Engine, text

from dialer.apikeys import create_api_key
from dialer.bench.imports import bench_campaign, bench_setting, generate_csv
from dialer.config import get_settings
from dialer.console.auth import SESSION_COOKIE
from dialer.console.sessions import SignedIn, new_nonce, seal
from dialer.contacts.importer import import_contacts
from dialer.db import make_sync_engine, session_scope
from dialer.models import utcnow
from dialer.redis_embedded import EmbeddedRedis
from dialer.runtime import Runtime
from dialer.serve import free_port, running_server

__all__ = ["ConsoleFigures", "mid_run", "mid_run_campaign", "run_console_bench"]

PAGES = {
    "page": "/campaigns/{id}",
    "live": "/campaigns/{id}/live",
    "chart": "/campaigns/{id}/minutes.json",
    "list": "/campaigns",
}
BASELINE_CONTACTS = 1_000
OUTCOMES = ("answered", "no_answer", "busy", "failed")


@dataclass(frozen=True)
class ConsoleFigures:
    contacts: int
    requests: int
    # Per page: median and slowest milliseconds, and the median's ratio to the baseline's.
    ms_p50: dict[str, float]
    ms_max: dict[str, float]
    baseline_ms_p50: dict[str, float]
    ratio_p50: dict[str, float]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def mid_run(engine: Engine, campaign_id: int) -> None:
    """60% of the contacts ended with one attempt each; the rest queued; ten hours of minutes."""
    now = utcnow().replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE notification SET status = CASE WHEN id % 10 < 6 THEN "
                "(CASE WHEN id % 4 = 0 THEN 'delivered' ELSE 'failed' END) ELSE 'queued' END, "
                "outcome = CASE WHEN id % 10 < 6 THEN (CASE id % 4 WHEN 0 THEN 'answered' "
                "WHEN 1 THEN 'no_answer' WHEN 2 THEN 'busy' ELSE 'failed' END) END, "
                "attempts_made = CASE WHEN id % 10 < 6 THEN 1 ELSE 0 END "
                "WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )
        conn.execute(
            text("UPDATE campaign SET status = 'running', started_at = :t WHERE id = :c"),
            {"c": campaign_id, "t": now},
        )
        # The statuses were set by SQL here, past the tallies: counted again from the rows.
        conn.execute(text("DELETE FROM campaign_tally WHERE campaign_id = :c"), {"c": campaign_id})
        conn.execute(
            text(
                "INSERT INTO campaign_tally (campaign_id, status, outcome, answer, contacts) "
                "SELECT campaign_id, status, COALESCE(outcome, ''), '', count(*) "
                "FROM notification WHERE campaign_id = :c "
                "GROUP BY campaign_id, status, COALESCE(outcome, '')"
            ),
            {"c": campaign_id},
        )
        conn.execute(
            text(
                "INSERT INTO attempt (notification_id, campaign_id, number, provider, status, "
                "outcome, provider_status, created_at, updated_at, sent_at, ended_at) "
                "SELECT id, campaign_id, 1, 'xoxzo', 'finished', outcome, 'ANSWERED', "
                ":t, :t, :t, :t "
                "FROM notification WHERE campaign_id = :c AND id % 10 < 6"
            ),
            {"c": campaign_id, "t": now},
        )
        rows = [
            {"c": campaign_id, "m": now - timedelta(minutes=m), "o": o, "n": 100 + m % 7}
            for m in range(600)
            for o in OUTCOMES
        ]
        conn.execute(
            text(
                "INSERT INTO campaign_minute (campaign_id, minute, outcome, finals) "
                "VALUES (:c, :m, :o, :n)"
            ),
            rows,
        )


def mid_run_campaign(engine: Engine, contacts: int, workdir_csv: str, name: str) -> int:
    from pathlib import Path

    path = Path(workdir_csv)
    generate_csv(path, contacts, seed=contacts)
    campaign_id = bench_campaign(engine, name)
    with path.open("rb") as stream:
        import_contacts(engine, campaign_id, stream, filename=path.name)
    mid_run(engine, campaign_id)
    return campaign_id


async def _timed(
    client: httpx.AsyncClient, campaign_id: int, requests: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    for _ in range(requests):
        for name, path in PAGES.items():
            started = time.perf_counter()
            answer = await client.get(path.format(id=campaign_id))
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
            times[name].append(elapsed)
    return times


async def _measure(
    url: str, redis_url: str, big: int, small: int, requests: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    from dialer.app import create_app

    port = free_port()
    settings = get_settings().model_copy(
        update={
            "database_url": url,
            "redis_url": redis_url,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    runtime = await Runtime.open(settings, redis_url)
    try:
        async with session_scope(runtime.sessions) as session:
            await create_api_key(session, "bench")
        signed = SignedIn(key_id=1, nonce=new_nonce(), issued_at=int(time.time()))
        cookie = seal(settings.secret_key.get_secret_value(), signed)
        async with (
            running_server(create_app(settings, redis_url), "127.0.0.1", port),
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", cookies={SESSION_COOKIE: cookie}, timeout=120
            ) as client,
        ):
            await _timed(client, small, 2)  # warm: first queries, template compilation
            await _timed(client, big, 2)
            return await _timed(client, small, requests), await _timed(client, big, requests)
    finally:
        await runtime.close()


def run_console_bench(contacts: int, database_url: str | None, requests: int) -> ConsoleFigures:
    with bench_setting(1, database_url) as (url, csv_path):
        engine = make_sync_engine(url)
        try:
            small = mid_run_campaign(engine, BASELINE_CONTACTS, str(csv_path), "baseline")
            big = mid_run_campaign(engine, contacts, str(csv_path), f"bench console {contacts}")
            if engine.dialect.name == "postgresql":
                with engine.begin() as conn:
                    conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()
        with EmbeddedRedis() as redis:
            baseline, measured = asyncio.run(_measure(url, redis.url, big, small, requests))
    p50 = {k: round(statistics.median(v), 1) for k, v in measured.items()}
    base = {k: round(statistics.median(v), 1) for k, v in baseline.items()}
    return ConsoleFigures(
        contacts=contacts,
        requests=requests,
        ms_p50=p50,
        ms_max={k: round(max(v), 1) for k, v in measured.items()},
        baseline_ms_p50=base,
        ratio_p50={k: round(p50[k] / base[k], 2) if base[k] else 0.0 for k in p50},
    )
