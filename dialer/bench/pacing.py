"""`dialer bench pacing`: N worker processes dialling one campaign through a sandbox that
enforces a rate, measured by what the sandbox received: calls/s, the busiest second, 429s."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx
from redis import Redis

from dialer.bench.imports import bench_campaign, generate_csv
from dialer.campaigns.credit import WATCH_KEY
from dialer.campaigns.service import start_campaign
from dialer.config import to_driver_url
from dialer.contacts.importer import import_contacts
from dialer.db import make_async_engine, make_sessionmaker, make_sync_engine, session_scope
from dialer.migrations import upgrade_to_head
from dialer.models import Campaign
from dialer.processes import DialerProcess, deployment_env
from dialer.redis_embedded import EmbeddedRedis
from dialer.serve import free_ports

__all__ = [
    "PacingFigures",
    "most_in_one_second",
    "run_pacing_bench",
    "start_bench_campaign",
]

_ALWAYS = {"window_start": "00:00:00", "window_end": "23:59:59"}
_CALLS = "POST /voice/simple/playbacks/"


@dataclass(frozen=True)
class PacingFigures:
    rate: float
    sandbox_rate: float
    workers: int
    seconds: float
    calls: int
    achieved_per_s: float
    max_in_any_1s_window: int
    # Every call request the sandbox saw, refused ones too.
    max_requests_in_any_1s_window: int
    responses_429: int
    # Seconds from the first call to the last 429; None without any.
    last_429_after_s: float | None
    # What it ran beside: processes keeping a core busy, the sandbox's network jitter (s).
    cpu_hogs: int = 0
    jitter_s: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def most_in_one_second(times: list[float]) -> int:
    """The most of `times` (seconds) inside any window [t, t + 1)."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def figures_from_traffic(
    traffic: list[dict[str, object]],
    *,
    rate: float,
    sandbox_rate: float,
    workers: int,
    seconds: float,
) -> PacingFigures:
    """The measure of one run: the `seconds` after the sandbox's first call request."""
    requests = [
        (float(str(r["at"])), bool(r["accepted"])) for r in traffic if r["request"] == _CALLS
    ]
    if not requests:
        raise RuntimeError("the sandbox saw no call requests")
    start = requests[0][0]
    inside = [(at - start, ok) for at, ok in requests if at - start < seconds]
    accepted = [at for at, ok in inside if ok]
    refused = [at for at, ok in inside if not ok]
    return PacingFigures(
        rate=rate,
        sandbox_rate=sandbox_rate,
        workers=workers,
        seconds=seconds,
        calls=len(accepted),
        achieved_per_s=round(len(accepted) / seconds, 2),
        max_in_any_1s_window=most_in_one_second(accepted),
        max_requests_in_any_1s_window=most_in_one_second([at for at, _ in inside]),
        responses_429=len(refused),
        last_429_after_s=round(max(refused), 2) if refused else None,
    )


async def start_bench_campaign(database_url: str, campaign_id: int) -> None:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            await start_campaign(session, campaign)
    finally:
        await engine.dispose()


def _await_credit_watch(redis_url: str) -> None:
    """Until the credit watcher has taken its turn (it looks every 5 s): its balance read,
    which the sandbox counts under the same rate as calls, then falls after the run."""
    client = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 15.0
        while not client.exists(WATCH_KEY):
            if time.monotonic() > deadline:
                raise RuntimeError("the credit watcher never ran")
            time.sleep(0.1)
    finally:
        client.close()


def _cpu_hog(seconds: float) -> subprocess.Popen[bytes]:
    """A process that keeps one core busy for `seconds`, then stops by itself."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return subprocess.Popen([sys.executable, "-c", spin])


def run_pacing_bench(
    rate: float,
    workers: int,
    seconds: float,
    *,
    sandbox_rate: float | None = None,
    database_url: str | None = None,
    traffic_file: Path | None = None,
    cpu_hogs: int = 0,
    jitter_s: float = 0.0,
) -> PacingFigures:
    enforced = sandbox_rate if sandbox_rate is not None else rate
    # Enough contacts that the campaign never runs dry, whichever rate is the higher.
    contacts = math.ceil(max(rate, enforced) * seconds * 1.2) + 100
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as workdir, EmbeddedRedis() as redis:
        url = database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        upgrade_to_head(url)
        csv_path = Path(workdir) / "contacts.csv"
        generate_csv(csv_path, contacts)
        engine = make_sync_engine(url)
        try:
            campaign_id = bench_campaign(engine, f"bench pacing {rate}/s", _ALWAYS)
            with csv_path.open("rb") as stream:
                import_contacts(engine, campaign_id, stream, filename=csv_path.name)
        finally:
            engine.dispose()
        web_port, sandbox_port = free_ports(2)
        env = {
            **deployment_env(url, redis.url, web_port, sandbox_port, rate),
            # Callbacks report every call; status and balance reads would count against the
            # same rate at the sandbox, which counts every request of an account together.
            "DIALER_POLL_INTERVAL_S": "300",
            "DIALER_CREDIT_CHECK_INTERVAL_S": "300",
        }
        sandbox_args = ["sandbox", "--port", str(sandbox_port), "--rate", str(enforced)]
        sandbox_args += ["--no-log-requests"]  # a line per request would slow it
        sandbox_args += ["--balance", "1e9"]  # credit is not what this measures
        processes = [
            # The sandbox stands in for a provider's own machines: ahead of the dialer for the
            # CPU, it times each request as it arrives, not when a busy core gets to it.
            DialerProcess(
                "sandbox",
                [*sandbox_args, "--time-scale", "0.01"],
                env,
                Path(workdir),
                nice=-10 if os.geteuid() == 0 else 0,
            ),
            DialerProcess("web", ["web", "--port", str(web_port)], env, Path(workdir)),
        ]
        try:
            processes[0].wait_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/knobs")
            processes[1].wait_http(f"http://127.0.0.1:{web_port}/healthz")
            started = [
                DialerProcess(f"worker-{i}", ["-v", "worker"], env, Path(workdir))
                for i in range(workers)
            ]
            processes += started
            for worker in started:
                worker.wait_log("worker ready")
            _await_credit_watch(redis.url)
            if jitter_s:
                knobs = {"network_jitter_s": jitter_s}
                httpx.post(f"http://127.0.0.1:{sandbox_port}/_sandbox/knobs", json=knobs)
            hogs = [_cpu_hog(seconds + 10.0) for _ in range(cpu_hogs)]
            try:
                asyncio.run(start_bench_campaign(url, campaign_id))
                time.sleep(seconds + 3.0)
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
            traffic = httpx.get(f"http://127.0.0.1:{sandbox_port}/_sandbox/traffic").json()
            if traffic_file is not None:
                traffic_file.write_text(json.dumps(traffic))
        finally:
            for process in processes:
                process.stop()
    figures = figures_from_traffic(
        traffic, rate=rate, sandbox_rate=enforced, workers=workers, seconds=seconds
    )
    return replace(figures, cpu_hogs=cpu_hogs, jitter_s=jitter_s)
