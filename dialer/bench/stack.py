"""A throwaway deployment for the engine's benchmarks, on this machine: a sandbox standing in for
Xoxzo, the web process that takes its callbacks, and worker processes; and a campaign of
generated contacts for them to dial."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dialer.bench.imports import bench_campaign, generate_csv
from dialer.campaigns.service import start_campaign
from dialer.config import to_driver_url
from dialer.contacts.importer import import_contacts
from dialer.db import make_async_engine, make_sessionmaker, make_sync_engine, session_scope
from dialer.models import Campaign
from dialer.processes import DialerProcess, deployment_env
from dialer.serve import free_ports

__all__ = [
    "ALWAYS",
    "Stack",
    "cpu_s",
    "imported_campaign",
    "running_stack",
    "start_bench_campaign",
]

# A calling window open all day: a benchmark may run at any hour.
ALWAYS = {"window_start": "00:00:00", "window_end": "23:59:59"}


def cpu_s(pid: int) -> float:
    """User and system CPU seconds the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_bench_campaign(database_url: str, campaign_id: int) -> None:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            campaign = await session.get(Campaign, campaign_id)
            assert campaign is not None
            await start_campaign(session, campaign)
    finally:
        await engine.dispose()


def imported_campaign(database_url: str, workdir: Path, contacts: int, name: str) -> int:
    """A draft campaign of `contacts` generated contacts, imported as an upload would be."""
    csv_path = workdir / "contacts.csv"
    generate_csv(csv_path, contacts)
    engine = make_sync_engine(database_url)
    try:
        campaign_id = bench_campaign(engine, name, ALWAYS)
        with csv_path.open("rb") as stream:
            import_contacts(engine, campaign_id, stream, filename=csv_path.name)
    finally:
        engine.dispose()
    return campaign_id


@dataclass
class Stack:
    workdir: Path
    env: dict[str, str]
    web_port: int
    sandbox_port: int
    processes: list[DialerProcess] = field(default_factory=list)

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_sandbox(self, rate: float, *, balance: float, time_scale: float = 0.01) -> None:
        """The sandbox enforcing `rate` requests/s; a call rings and talks for about 30 s times
        `time_scale`."""
        args = ["sandbox", "--port", str(self.sandbox_port), "--rate", str(rate)]
        args += ["--no-log-requests"]  # a line per request would slow it
        args += ["--balance", str(balance), "--time-scale", str(time_scale)]
        # It stands in for a provider's own machines: ahead of the dialer for the CPU, it times
        # each request as it arrives, not when a busy core gets to it.
        nice = -10 if os.geteuid() == 0 else 0
        sandbox = DialerProcess("sandbox", args, self.env, self.workdir, nice=nice)
        self.processes.append(sandbox)
        sandbox.wait_http(f"{self.sandbox_url}/_sandbox/knobs")

    def start_web(self) -> None:
        web = DialerProcess("web", ["web", "--port", str(self.web_port)], self.env, self.workdir)
        self.processes.append(web)
        web.wait_http(f"{self.web_url}/healthz")

    def start_workers(self, count: int, *, verbose: bool = False) -> None:
        args = ["-v", "worker"] if verbose else ["worker"]
        started = [DialerProcess(f"worker-{i}", args, self.env, self.workdir) for i in range(count)]
        self.processes += started
        for worker in started:
            worker.wait_log("worker ready")

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds each process has used so far, by name."""
        return {p.name: cpu_s(p.popen.pid) for p in self.processes}


@contextmanager
def running_stack(database_url: str, redis_url: str, workdir: Path, rate: float) -> Iterator[Stack]:
    """A deployment whose provider limits are `rate` requests/s; its processes, once started,
    stop when the block ends."""
    web_port, sandbox_port = free_ports(2)
    env = {
        **deployment_env(database_url, redis_url, web_port, sandbox_port, rate),
        # Callbacks report every call; status and balance reads would count against the same
        # rate at the sandbox, which counts every request of an account together.
        "DIALER_POLL_INTERVAL_S": "300",
        "DIALER_CREDIT_CHECK_INTERVAL_S": "300",
    }
    stack = Stack(workdir, env, web_port, sandbox_port)
    try:
        yield stack
    finally:
        for process in stack.processes:
            process.stop()
