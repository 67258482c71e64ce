"""`dialer bench throughput`: the engine's ceiling. One campaign dialled through the sandbox with
no provider limit by N worker processes, against a raw asyncio + httpx loop placing the same
calls on the same sandbox with a callback server of its own (the baseline), in the same run.

A final is an attempt closed by the provider's callback. Both sides are measured over the same
window: `seconds` after a warm-up from their first request. For the dialer it also counts the
CPU each process used, Redis commands and (on PostgreSQL) SQL commits, per final, and the time
from each request's clearance to leave to its final."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

import httpx
import sqlalchemy as sa
from redis import Redis
from starlette.types import Receive, Scope, Send

from dialer.bench.exports import api_key
from dialer.bench.measures import quantile, utc
from dialer.bench.stack import imported_campaign, running_stack, start_bench_campaign
from dialer.db import make_sync_engine
from dialer.migrations import upgrade_to_head
from dialer.redis_embedded import EmbeddedRedis
from dialer.serve import free_ports, running_server

__all__ = ["ThroughputFigures", "run_throughput_bench"]

# No provider limit: the limiter and the sandbox let through far more than the engine makes.
_UNLIMITED = 100_000.0
_WARM_UP_S = 3.0
_SID, _TOKEN = "sandbox-sid", "sandbox-token"
_BASELINE_CONCURRENCY = 50


@dataclass(frozen=True)
class ThroughputFigures:
    database: str
    workers: int
    seconds: float
    finals: int
    finals_per_s: float
    baseline_finals_per_s: float
    ratio: float
    # CPU milliseconds per final, by process (the workers together), over the window.
    worker_cpu_ms_per_notification: float
    web_cpu_ms_per_notification: float
    sandbox_cpu_ms_per_notification: float
    baseline_cpu_ms_per_notification: float
    redis_commands_per_notification: float
    # PostgreSQL's committed transactions per final; None on SQLite, which keeps no count.
    sql_commits_per_notification: float | None
    sent_to_final_p50_s: float
    sent_to_final_p99_s: float
    # The sandbox's own CPU share of the window (1.0 = one core all the time).
    sandbox_cores: float
    # The burst of API notifications sent while the campaign dials (none unless asked for).
    api_requests: int = 0
    api_accepted: int = 0
    api_p50_ms: float | None = None
    api_p99_ms: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _redis_commands(client: Redis) -> int:
    info = cast(dict[str, Any], client.info("stats"))
    return int(info["total_commands_processed"])


def _commits(engine: sa.Engine) -> int | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
        found = conn.scalar(
            sa.text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        )
    return int(found or 0)


def _finals(
    engine: sa.Engine, campaign_id: int, since: datetime, until: datetime
) -> list[tuple[datetime, datetime | None]]:
    """(closed at, cleared to leave at) of every attempt of the campaign closed in the window."""
    query = sa.text(
        "SELECT updated_at, sent_at FROM attempt WHERE campaign_id = :c "
        "AND status = 'finished' AND updated_at >= :since AND updated_at < :until"
    )
    naive = {"since": since.replace(tzinfo=None), "until": until.replace(tzinfo=None)}
    with engine.connect() as conn:
        rows = conn.execute(query, {"c": campaign_id, **naive}).all()
    return [(utc(closed), utc(sent) if sent is not None else None) for closed, sent in rows]


class _Callbacks:
    """The baseline's callback server: an ASGI app that notes when each final arrives."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = parse_qs(body.decode()).get("status", [""])[0]
        if status and status != "IN PROGRESS":
            self.arrivals.append(time.monotonic())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def _baseline(sandbox_url: str, seconds: float) -> tuple[float, float]:
    """Finals/s and CPU ms per final of a minimal asyncio + httpx script: calls POSTed as fast
    as the sandbox takes them, `_BASELINE_CONCURRENCY` at once, finals counted as they call
    back."""
    callbacks = _Callbacks()
    (port,) = free_ports(1)
    cpu: list[float] = []
    started = stop = 0.0

    async def caller(client: httpx.AsyncClient, first: int) -> None:
        nonlocal started, stop
        if not started:
            started = time.monotonic()
            stop = started + _WARM_UP_S + seconds
        i = first
        while time.monotonic() < stop:
            form = {
                "caller": "+81312345678",
                "recipient": f"+8190{10_000_000 + i}",
                "callbackurl": f"http://127.0.0.1:{port}/cb",
                "tags": f"b{i}",
                "tts_message": "Hello",
                "tts_lang": "ja",
            }
            i += _BASELINE_CONCURRENCY
            try:
                answer = await client.post(f"{sandbox_url}/voice/simple/playbacks/", data=form)
            except httpx.TransportError:
                continue  # a kept-alive connection closed under it, say: the call never left
            answer.raise_for_status()

    async def measure() -> None:
        await asyncio.sleep(_WARM_UP_S)
        cpu.append(time.process_time())
        await asyncio.sleep(seconds)
        cpu.append(time.process_time())

    limits = httpx.Limits(max_connections=_BASELINE_CONCURRENCY)
    async with (
        running_server(callbacks, "127.0.0.1", port),
        httpx.AsyncClient(auth=(_SID, _TOKEN), limits=limits, timeout=30) as client,
    ):
        await asyncio.gather(measure(), *(caller(client, k) for k in range(_BASELINE_CONCURRENCY)))
        await asyncio.sleep(2.0)  # the last calls' callbacks
    window = [t for t in callbacks.arrivals if started + _WARM_UP_S <= t < stop]
    per_s = len(window) / seconds
    cpu_ms = (cpu[1] - cpu[0]) * 1000 / len(window) if window else 0.0
    return per_s, cpu_ms


@dataclass(frozen=True)
class _Burst:
    accepted: int
    latencies_ms: list[float]


async def _api_burst(web_url: str, key: str, requests: int, delay_s: float) -> _Burst:
    """`requests` POST /v1/notifications, `_BASELINE_CONCURRENCY` at once, after `delay_s`."""
    await asyncio.sleep(delay_s)
    latencies: list[float] = []
    accepted = 0
    numbers = iter(range(requests))
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=_BASELINE_CONCURRENCY)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        for i in numbers:
            body = {"channel": "tts", "to": f"+8180{20_000_000 + i}", "from": "+81312345678"}
            began = time.monotonic()
            answer = await client.post("/v1/notifications", json={**body, "text": "Hello"})
            latencies.append((time.monotonic() - began) * 1000)
            accepted += answer.status_code == 202

    async with httpx.AsyncClient(
        base_url=web_url, headers=headers, limits=limits, timeout=60
    ) as client:
        await asyncio.gather(*(sender(client) for _ in range(_BASELINE_CONCURRENCY)))
    return _Burst(accepted, latencies)


def run_throughput_bench(
    workers: int,
    seconds: float,
    database_url: str | None,
    contacts: int | None = None,
    api_requests: int = 0,
) -> ThroughputFigures:
    # Enough contacts that the campaign never runs dry at several times today's ceiling.
    contacts = contacts or int(600 * (seconds + _WARM_UP_S + 10))
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as workdir, EmbeddedRedis() as redis:
        url = database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        upgrade_to_head(url)
        name = f"bench throughput {workers}"
        campaign_id = imported_campaign(url, Path(workdir), contacts, name)
        engine = make_sync_engine(url)
        try:
            with running_stack(url, redis.url, Path(workdir), _UNLIMITED) as stack:
                stack.start_sandbox(_UNLIMITED, balance=1e12)
                baseline_per_s, baseline_cpu_ms = asyncio.run(_baseline(stack.sandbox_url, seconds))
                stack.start_web()
                stack.start_workers(workers)
                client = Redis.from_url(redis.url)
                asyncio.run(start_bench_campaign(url, campaign_id))
                key = api_key(engine) if api_requests else ""
                time.sleep(_WARM_UP_S)
                since = datetime.now(UTC)
                cpu_before = stack.cpu_s()
                commands_before = _redis_commands(client)
                commits_before = _commits(engine)
                burst = _Burst(0, [])
                if api_requests:
                    burst = asyncio.run(_api_burst(stack.web_url, key, api_requests, 1.0))
                time.sleep(max(0.0, seconds - (datetime.now(UTC) - since).total_seconds()))
                until = datetime.now(UTC)
                cpu_after = stack.cpu_s()
                commands = _redis_commands(client) - commands_before
                commits_after = _commits(engine)
                client.close()
            finals = _finals(engine, campaign_id, since, until)
            database = engine.dialect.name
        finally:
            engine.dispose()
    count = len(finals)
    if not count:
        raise RuntimeError("no attempt was closed in the window")
    # A burst that outlasts the window asked for stretches it: every rate is over the window.
    seconds = (until - since).total_seconds()
    used = {name: cpu_after[name] - cpu_before[name] for name in cpu_before}
    worker_cpu = sum(v for name, v in used.items() if name.startswith("worker-"))
    latencies = [(closed - sent).total_seconds() for closed, sent in finals if sent is not None]
    per_s = count / seconds
    commits = (
        None
        if commits_before is None or commits_after is None
        else round((commits_after - commits_before) / count, 2)
    )
    return ThroughputFigures(
        database=database,
        workers=workers,
        seconds=round(seconds, 1),
        finals=count,
        finals_per_s=round(per_s, 1),
        baseline_finals_per_s=round(baseline_per_s, 1),
        ratio=round(per_s / baseline_per_s, 2) if baseline_per_s else 0.0,
        worker_cpu_ms_per_notification=round(worker_cpu * 1000 / count, 2),
        web_cpu_ms_per_notification=round(used["web"] * 1000 / count, 2),
        sandbox_cpu_ms_per_notification=round(used["sandbox"] * 1000 / count, 2),
        baseline_cpu_ms_per_notification=round(baseline_cpu_ms, 2),
        redis_commands_per_notification=round(commands / count, 1),
        sql_commits_per_notification=commits,
        sent_to_final_p50_s=round(quantile(latencies, 0.5), 3),
        sent_to_final_p99_s=round(quantile(latencies, 0.99), 3),
        sandbox_cores=round(used["sandbox"] / seconds, 2),
        api_requests=api_requests,
        api_accepted=burst.accepted,
        api_p50_ms=round(quantile(burst.latencies_ms, 0.5), 1) if api_requests else None,
        api_p99_ms=round(quantile(burst.latencies_ms, 0.99), 1) if api_requests else None,
    )
