"""`dialer bench import`: generate a contacts CSV and import it into a fresh campaign."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from dialer.bench.minimal_import import minimal_import
from dialer.contacts.importer import ImportReport, import_contacts
from dialer.contacts.tuning import tuned_for_import
from dialer.db import make_sync_engine
from dialer.migrations import upgrade_to_head
from dialer.models import Campaign
from dialer.vocabulary import Channel

__all__ = [
    "ImportFigures",
    "bench_campaign",
    "bench_setting",
    "generate_csv",
    "run_import_bench",
]

_SHAPES = ("090-{a}-{b}", "+81 90 {a} {b}", "090{a}{b}")


def _mobile(i: int) -> tuple[str, str]:
    """The i-th distinct Japanese mobile number (090-1000-0000 on), as two groups of 4."""
    digits = f"{1000_0000 + i:08d}"
    return digits[:4], digits[4:]


def generate_csv(path: Path, rows: int, *, seed: int = 1) -> None:
    """`rows` contacts: 1% invalid numbers, 1% repeats of an earlier number, two variables."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("phone,name,amount\n")
        lines = []
        for i in range(rows):
            roll = rng.random()
            if roll < 0.01:
                phone = f"090-12{i % 100:02d}"  # too short
            elif roll < 0.02 and i:
                a, b = _mobile(rng.randrange(i))
                phone = f"090-{a}-{b}"
            else:
                a, b = _mobile(i)
                phone = _SHAPES[i % 3].format(a=a, b=b)
            lines.append(f"{phone},Customer {i},{(i * 37) % 10_000}\n")
            if len(lines) == 10_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def bench_campaign(engine: Engine, name: str, schedule: dict[str, Any] | None = None) -> int:
    """A draft TTS campaign whose template uses the generated CSV's two variables."""
    with Session(engine) as session:
        campaign = Campaign(
            name=name,
            provider="xoxzo",
            channel=Channel.tts,
            from_number="+81312345678",
            template="Hello {{ name }}, your balance is {{ amount }} yen.",
            lang="ja",
            schedule=schedule or {},
        )
        session.add(campaign)
        session.commit()
        assert campaign.id is not None
        return campaign.id


@dataclass(frozen=True)
class ImportFigures:
    rows: int
    seconds: float
    rows_per_s: float
    peak_rss_mb: float
    # The largest of the processes that read the file's parts (dialer.contacts.parts), if any.
    part_process_rss_peak_mb: float
    report: ImportReport
    # The same file through a minimal script on the same database (dialer.bench.minimal_import).
    baseline_rows_per_s: float
    baseline_written: int

    @property
    def ratio(self) -> float:
        return self.rows_per_s / self.baseline_rows_per_s if self.baseline_rows_per_s else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 2),
            "rows_per_s": round(self.rows_per_s),
            "baseline_rows_per_s": round(self.baseline_rows_per_s),
            "ratio": round(self.ratio, 2),
            "baseline_written": self.baseline_written,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "part_process_rss_peak_mb": round(self.part_process_rss_peak_mb, 1),
            **{k: v for k, v in self.report.as_dict().items() if k not in {"rows"}},
        }


@contextmanager
def bench_setting(rows: int, database_url: str | None) -> Iterator[tuple[str, Path]]:
    """A database migrated to head (default: a fresh SQLite file) and a generated CSV."""
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as workdir:
        url = database_url or f"sqlite:///{Path(workdir) / 'bench.db'}"
        upgrade_to_head(url)
        csv_path = Path(workdir) / "contacts.csv"
        generate_csv(csv_path, rows)
        yield url, csv_path


def run_import_bench(rows: int, database_url: str | None, batch_size: int) -> ImportFigures:
    with bench_setting(rows, database_url) as (url, csv_path):
        engine = make_sync_engine(url)
        try:
            campaign_id = bench_campaign(engine, f"bench import {rows}")
            started = time.perf_counter()
            with csv_path.open("rb") as stream, tuned_for_import():
                report = import_contacts(
                    engine, campaign_id, stream, filename=csv_path.name, batch_size=batch_size
                )
            seconds = time.perf_counter() - started
            # Peak memory is the importer's: read before the baseline runs.
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            parts_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            with tuned_for_import():
                read, written, baseline_s = minimal_import(engine, csv_path)
        finally:
            engine.dispose()
    return ImportFigures(
        rows=report.rows,
        seconds=seconds,
        rows_per_s=report.rows / seconds if seconds else 0.0,
        peak_rss_mb=peak_kb / 1024,
        part_process_rss_peak_mb=parts_kb / 1024,
        report=report,
        baseline_rows_per_s=read / baseline_s if baseline_s else 0.0,
        baseline_written=written,
    )
