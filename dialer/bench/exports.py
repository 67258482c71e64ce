"""`dialer bench export`: a campaign's results.csv and an import's issues.csv downloaded from a
real web process over loopback, against a minimal script reading the same rows straight from
the database with its driver in the same run (the baseline); rows/s, and the web process's RSS
before and at its peak.

The campaign is made to look mid-run as in `dialer bench console` (60% of its contacts ended
with an attempt each), and a second upload of only invalid rows gives it an issues.csv."""

from __future__ import annotations

import contextlib
import csv
import io
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session

from dialer.bench.console import mid_run_campaign
from dialer.contacts.importer import import_contacts
from dialer.db import make_sync_engine
from dialer.migrations import upgrade_to_head
from dialer.models import ApiKey
from dialer.processes import DialerProcess, deployment_env
from dialer.redis_embedded import EmbeddedRedis
from dialer.security import generate_api_key
from dialer.serve import free_ports

__all__ = ["ExportFigures", "api_key", "run_export_bench"]


@dataclass(frozen=True)
class ExportFigures:
    database: str
    contacts: int
    # The campaign's contacts (the CSV's rows less its invalid ones and repeats).
    campaign_contacts: int
    results_rows: int
    results_s: float
    results_rows_per_s: float
    baseline_rows_per_s: float
    ratio: float
    issues_rows: int
    issues_s: float
    issues_rows_per_s: float
    web_rss_before_mb: float
    web_rss_peak_mb: float
    # The web process's children during results.csv (its export processes): how many, and the
    # highest peak RSS of any.
    export_processes: int
    export_process_rss_peak_mb: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _invalid_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("phone,name,amount\n")
        out.writelines(f"090-12{i % 100:02d},Bad {i},{i}\n" for i in range(rows))


def api_key(engine: Engine) -> str:
    """A new admin API key for a benchmark's requests."""
    new = generate_api_key()
    with Session(engine) as session:
        session.add(ApiKey(name="bench", prefix=new.prefix, key_hash=new.key_hash))
        session.commit()
    return new.plaintext


def _baseline(engine: Engine, campaign_id: int) -> tuple[int, float]:
    """What a minimal script gets: each contact with its attempts, one query, through the
    driver's own cursor, written as CSV."""
    mark = "%s" if engine.dialect.name == "postgresql" else "?"
    query = (
        "SELECT n.import_id, n.row_number, n.variables, n.to_number, n.status, n.outcome, "
        "n.answer, n.attempts_made, a.cost, n.created_at, n.finished_at, n.last_error, "
        "a.provider_id, a.provider_status "
        "FROM notification n LEFT JOIN attempt a ON a.notification_id = n.id "
        f"WHERE n.campaign_id = {mark} ORDER BY n.id, a.number"
    )
    rows = 0
    started = time.perf_counter()
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        server_side = engine.dialect.name == "postgresql"
        cursor = raw.cursor(name="bench") if server_side else raw.cursor()
        cursor.execute(query, (campaign_id,))
        sink = io.StringIO()
        writer = csv.writer(sink)
        while page := cursor.fetchmany(5000):
            writer.writerows(page)
            rows += len(page)
            sink.seek(0)
            sink.truncate()
        cursor.close()
    return rows, time.perf_counter() - started


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


class _ChildPeaks:
    """The peak RSS of each child of a process, read every 50 ms while it runs."""

    def __init__(self, parent: int) -> None:
        self._parent = parent
        self.peaks: dict[int, float] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    with contextlib.suppress(OSError, IndexError, ValueError, RuntimeError):
                        stat = (entry / "stat").read_text()
                        if int(stat.rsplit(")", 1)[1].split()[1]) == self._parent:
                            pid = int(entry.name)
                            peak = _rss_mb(pid, "VmHWM")
                            self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))


def _download(base: str, key: str, path: str) -> tuple[int, float]:
    """Lines of the file after its header, and the seconds from request to last byte."""
    lines = 0
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("GET", base + path, headers=headers, timeout=600) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.read()[:200]!r}")
        for chunk in answer.iter_bytes():
            lines += chunk.count(b"\n")
    return lines - 1, time.perf_counter() - started


def run_export_bench(contacts: int, bad_rows: int, database_url: str | None) -> ExportFigures:
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as workdir, EmbeddedRedis() as redis:
        url = database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        upgrade_to_head(url)
        engine = make_sync_engine(url)
        try:
            name = f"bench export {contacts}"
            campaign_id = mid_run_campaign(engine, contacts, str(Path(workdir) / "c.csv"), name)
            bad = Path(workdir) / "bad.csv"
            _invalid_csv(bad, bad_rows)
            with bad.open("rb") as stream:
                report = import_contacts(engine, campaign_id, stream, filename=bad.name)
            key = api_key(engine)
            with engine.connect() as conn:
                in_campaign = conn.scalar(
                    sa.text("SELECT count(*) FROM notification WHERE campaign_id = :c"),
                    {"c": campaign_id},
                )
            baseline_rows, baseline_s = _baseline(engine, campaign_id)
            database = engine.dialect.name
        finally:
            engine.dispose()
        web_port, sandbox_port = free_ports(2)
        env = deployment_env(url, redis.url, web_port, sandbox_port, 20.0)
        web = DialerProcess("web", ["web", "--port", str(web_port)], env, Path(workdir))
        try:
            base = f"http://127.0.0.1:{web_port}"
            web.wait_http(base + "/healthz")
            before = _rss_mb(web.popen.pid, "VmRSS")
            with _ChildPeaks(web.popen.pid) as children:
                results_rows, results_s = _download(
                    base, key, f"/v1/campaigns/{campaign_id}/results.csv"
                )
            issues_rows, issues_s = _download(
                base, key, f"/v1/campaigns/{campaign_id}/imports/{report.import_id}/issues.csv"
            )
            peak = _rss_mb(web.popen.pid, "VmHWM")
        finally:
            web.stop()
    rate = results_rows / results_s
    baseline_rate = baseline_rows / baseline_s
    return ExportFigures(
        database=database,
        contacts=contacts,
        campaign_contacts=int(in_campaign or 0),
        results_rows=results_rows,
        results_s=round(results_s, 2),
        results_rows_per_s=round(rate),
        baseline_rows_per_s=round(baseline_rate),
        ratio=round(rate / baseline_rate, 2),
        issues_rows=issues_rows,
        issues_s=round(issues_s, 2),
        issues_rows_per_s=round(issues_rows / issues_s),
        web_rss_before_mb=round(before, 1),
        web_rss_peak_mb=round(peak, 1),
        export_processes=len(children.peaks),
        export_process_rss_peak_mb=round(max(children.peaks.values(), default=0.0), 1),
    )
