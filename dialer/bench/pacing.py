"""`dialer bench pacing`: N worker processes dialling one campaign through a sandbox that
enforces a rate, measured by what the sandbox received: calls/s, the busiest second, 429s."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import httpx
from redis import Redis

from dialer.bench.stack import imported_campaign, running_stack, start_bench_campaign
from dialer.campaigns.credit import WATCH_KEY
from dialer.migrations import upgrade_to_head
from dialer.redis_embedded import EmbeddedRedis

__all__ = ["PacingFigures", "most_in_one_second", "run_pacing_bench"]

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
        campaign_id = imported_campaign(url, Path(workdir), contacts, f"bench pacing {rate}/s")
        with running_stack(url, redis.url, Path(workdir), rate) as stack:
            stack.start_sandbox(enforced, balance=1e9)  # credit is not what this measures
            stack.start_web()
            stack.start_workers(workers, verbose=True)
            _await_credit_watch(redis.url)
            if jitter_s:
                knobs = {"network_jitter_s": jitter_s}
                httpx.post(f"{stack.sandbox_url}/_sandbox/knobs", json=knobs)
            hogs = [_cpu_hog(seconds + 10.0) for _ in range(cpu_hogs)]
            try:
                asyncio.run(start_bench_campaign(url, campaign_id))
                time.sleep(seconds + 3.0)
            finally:
                for hog in hogs:
                    hog.kill()
                    hog.wait()
            traffic = httpx.get(f"{stack.sandbox_url}/_sandbox/traffic").json()
            if traffic_file is not None:
                traffic_file.write_text(json.dumps(traffic))
    figures = figures_from_traffic(
        traffic, rate=rate, sandbox_rate=enforced, workers=workers, seconds=seconds
    )
    return replace(figures, cpu_hogs=cpu_hogs, jitter_s=jitter_s)
