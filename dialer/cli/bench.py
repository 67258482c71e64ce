"""`dialer bench ...` and `dialer chaos`: measurements that print figures."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["bench", "chaos"]


class _Finite(click.FloatRange):
    """A float range that refuses NaN too (it compares as inside any range)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number", param, ctx)
        return number


# What each option may be: a benchmark refuses a value it cannot run with before it starts.
_COUNT = click.IntRange(1, 100_000_000)
_SOME = click.IntRange(0, 100_000_000)
_PROCESSES = click.IntRange(1, 64)
_SECONDS = _Finite(0, 86_400, min_open=True)
_RATE = _Finite(0, 100_000, min_open=True)


@click.group()
def bench() -> None:
    """Benchmarks that print what they measure on this machine."""


@bench.command("import")
@click.option("--rows", default=1_000_000, show_default=True, type=_COUNT)
@click.option(
    "--database-url",
    help="A database to import into (migrated to head); default: a fresh SQLite file.",
)
@click.option("--batch-size", default=20_000, show_default=True, type=_COUNT)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: rows, rows_per_s, ...")
def bench_import(rows: int, database_url: str | None, batch_size: int, as_json: bool) -> None:
    """Generate ROWS contacts (1% invalid, 1% duplicates) and import them into a campaign."""
    import json

    from dialer.bench.imports import run_import_bench

    figures = run_import_bench(rows, database_url, batch_size)
    if as_json:
        click.echo(json.dumps(figures.as_dict()))
        return
    r = figures.report
    click.echo(
        f"{figures.rows:,} rows in {figures.seconds:.1f} s: {figures.rows_per_s:,.0f} rows/s "
        f"(a minimal script: {figures.baseline_rows_per_s:,.0f} rows/s, ratio "
        f"{figures.ratio:.2f}), peak RSS {figures.peak_rss_mb:.0f} MB, each part process's "
        f"{figures.part_process_rss_peak_mb:.0f} MB "
        f"(imported {r.imported:,}, duplicate {r.duplicate:,}, invalid {r.invalid:,})"
    )


@bench.command("console")
@click.option("--contacts", default=1_000_000, show_default=True, type=_COUNT)
@click.option(
    "--database-url",
    help="A database to fill (migrated to head); default: a fresh SQLite file.",
)
@click.option("--requests", default=20, show_default=True, type=_COUNT, help="Requests per page.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ms_p50, ratio_p50, ...")
def bench_console(contacts: int, database_url: str | None, requests: int, as_json: bool) -> None:
    """How long the console answers for a mid-run campaign of CONTACTS, against one of 1,000."""
    import json

    from dialer.bench.console import run_console_bench

    figures = run_console_bench(contacts, database_url, requests)
    if as_json:
        click.echo(json.dumps(figures.as_dict()))
        return
    click.echo(
        f"console, campaign of {figures.contacts:,} contacts, {figures.requests} requests each:"
    )
    for page, ms in figures.ms_p50.items():
        click.echo(
            f"  {page:6} p50 {ms:7.1f} ms  max {figures.ms_max[page]:7.1f} ms  (1,000 contacts: "
            f"{figures.baseline_ms_p50[page]:.1f} ms, ratio {figures.ratio_p50[page]})"
        )


@bench.command("export")
@click.option("--contacts", default=1_000_000, show_default=True, type=_COUNT)
@click.option(
    "--bad-rows", default=100_000, show_default=True, type=_SOME, help="An upload of invalid rows."
)
@click.option(
    "--database-url",
    help="A database to fill (migrated to head); default: a fresh SQLite file.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: results_rows_per_s, ...")
def bench_export(contacts: int, bad_rows: int, database_url: str | None, as_json: bool) -> None:
    """Download a mid-run campaign's results.csv and an import's issues.csv from a web process,
    against a minimal script reading the same rows from the database."""
    import json

    from dialer.bench.exports import run_export_bench
    from dialer.processes import unwind_on_sigterm

    unwind_on_sigterm()
    f = run_export_bench(contacts, bad_rows, database_url)
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    click.echo(
        f"{f.database}: results.csv {f.results_rows:,} rows in {f.results_s} s, "
        f"{f.results_rows_per_s:,} rows/s (a minimal script: {f.baseline_rows_per_s:,} rows/s, "
        f"ratio {f.ratio}); issues.csv {f.issues_rows:,} rows in {f.issues_s} s, "
        f"{f.issues_rows_per_s:,} rows/s; web process RSS {f.web_rss_before_mb} MB before, "
        f"{f.web_rss_peak_mb} MB at its peak; {f.export_processes} export processes, "
        f"{f.export_process_rss_peak_mb} MB at the highest peak"
    )


@bench.command("throughput")
@click.option("--workers", default=1, show_default=True, type=_PROCESSES, help="Worker processes.")
@click.option(
    "--seconds", default=30.0, show_default=True, type=_SECONDS, help="How long to measure."
)
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option("--contacts", type=_COUNT, help="The campaign's size; default: 600 per second run.")
@click.option(
    "--api-requests",
    default=0,
    show_default=True,
    type=_SOME,
    help="POST /v1/notifications this many times, 50 at once, a second into the window.",
)
@click.option("--json", "as_json", is_flag=True, help="Last line: one JSON object of figures.")
def bench_throughput(
    workers: int,
    seconds: float,
    database_url: str | None,
    contacts: int | None,
    api_requests: int,
    as_json: bool,
) -> None:
    """Dial one campaign through the sandbox with no provider limit, against a raw asyncio +
    httpx loop on the same sandbox, and print finals/s and what each final cost."""
    import json

    from dialer.bench.throughput import run_throughput_bench
    from dialer.processes import unwind_on_sigterm

    unwind_on_sigterm()
    f = run_throughput_bench(workers, seconds, database_url, contacts, api_requests)
    commits = (
        ""
        if f.sql_commits_per_notification is None
        else (f", {f.sql_commits_per_notification} SQL commits")
    )
    click.echo(
        f"{f.database}, {f.workers} worker(s), {f.seconds:.0f} s: {f.finals_per_s} finals/s "
        f"(baseline {f.baseline_finals_per_s}/s, ratio {f.ratio}); per final: worker CPU "
        f"{f.worker_cpu_ms_per_notification} ms, web {f.web_cpu_ms_per_notification} ms, "
        f"sandbox {f.sandbox_cpu_ms_per_notification} ms (baseline script "
        f"{f.baseline_cpu_ms_per_notification} ms), {f.redis_commands_per_notification} Redis "
        f"commands{commits}; sent to final p50 {f.sent_to_final_p50_s} s, p99 "
        f"{f.sent_to_final_p99_s} s; the sandbox used {f.sandbox_cores} cores"
    )
    if f.api_requests:
        click.echo(
            f"API while dialling: {f.api_accepted} of {f.api_requests} POSTs accepted (202), "
            f"p50 {f.api_p50_ms} ms, p99 {f.api_p99_ms} ms"
        )
    if as_json:
        click.echo(json.dumps(f.as_dict()))


@bench.command("schedule")
@click.option("--rate", default=50.0, show_default=True, type=_RATE, help="Sends due per second.")
@click.option(
    "--seconds", default=30.0, show_default=True, type=_SECONDS, help="Over how long they are due."
)
@click.option("--workers", default=1, show_default=True, type=_PROCESSES, help="Worker processes.")
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: lateness_p99_s, ...")
def bench_schedule(
    rate: float, seconds: float, workers: int, database_url: str | None, as_json: bool
) -> None:
    """Schedule RATE API notifications a second over SECONDS, dial them through the sandbox with
    no provider limit, and print how late each request left after its send_at."""
    import json

    from dialer.bench.schedule import run_schedule_bench
    from dialer.processes import unwind_on_sigterm

    unwind_on_sigterm()
    f = run_schedule_bench(rate, seconds, workers, database_url)
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    click.echo(
        f"{f.database}, {f.workers} worker(s), {f.notifications:,} sends due at {f.rate}/s: "
        f"late by p50 {f.lateness_p50_s} s, p99 {f.lateness_p99_s} s, max {f.lateness_max_s} s; "
        f"{f.dialled_per_s} dialled/s; {f.undialled} never dialled, {f.early} early"
    )


@bench.command("templates")
@click.option("--renders", default=5_000, show_default=True, type=_COUNT)
@click.option("--processes", default=2, show_default=True, type=_PROCESSES)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: renders/s, ratio, ...")
def bench_templates(renders: int, processes: int, as_json: bool) -> None:
    """Render RENDERS contacts' texts in-process and through the template processes."""
    import json

    from dialer.bench.templates import run_template_bench

    f = run_template_bench(renders, processes)
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    click.echo(
        f"{f.renders:,} renders: in-process {f.in_process_per_s:,.0f}/s, plain substitutions "
        f"through the pool {f.plain_per_s:,.0f}/s (in place); others through {processes} "
        f"processes {f.pool_per_s:,.0f}/s one at a time and {f.pool_concurrent_per_s:,.0f}/s "
        f"concurrently ({f.ratio:.1%} of in-process); a spinning template held a process "
        f"{f.spin_held_s:.1f} s (its budget, twice)"
    )


@bench.command("waiting")
@click.option("--contacts", default=10_000, show_default=True, type=_COUNT)
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option(
    "--ticks", default=5, show_default=True, type=_COUNT, help="Hopper ticks with no worker."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: contacts, redis_used_mb…")
def bench_waiting(contacts: int, database_url: str | None, ticks: int, as_json: bool) -> None:
    """Start a campaign of CONTACTS due contacts, run the hopper with no worker to take the jobs,
    and print what Redis holds."""
    import json

    from dialer.bench.waiting import run_waiting_bench

    f = run_waiting_bench(contacts, database_url, ticks)
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    click.echo(
        f"{f.contacts:,} contacts waiting, {f.ticks} hopper ticks: {f.queued_jobs} jobs queued, "
        f"{f.redis_keys} keys, Redis {f.redis_used_mb} MB (empty: {f.redis_empty_mb} MB); "
        f"slowest tick {f.slowest_tick_ms} ms"
    )


@bench.command("pacing")
@click.option("--rate", default=20.0, show_default=True, type=_RATE, help="The limiter's calls/s.")
@click.option("--workers", default=4, show_default=True, type=_PROCESSES, help="Worker processes.")
@click.option(
    "--seconds", default=60.0, show_default=True, type=_SECONDS, help="How long to measure."
)
@click.option("--sandbox-rate", type=_RATE, help="The sandbox's own limit; default: --rate.")
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option(
    "--traffic",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every request the sandbox counted (time, request, accepted) here, as JSON.",
)
@click.option(
    "--cpu-hog",
    default=0,
    show_default=True,
    type=click.IntRange(0, 16),
    help="Processes keeping a core busy beside it.",
)
@click.option(
    "--jitter",
    default=0.0,
    show_default=True,
    type=_Finite(0, 10),
    help="Network delay, at random up to this many seconds, each way at the sandbox.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: achieved_per_s, ...")
def bench_pacing(
    rate: float,
    workers: int,
    seconds: float,
    sandbox_rate: float | None,
    database_url: str | None,
    traffic: Path | None,
    cpu_hog: int,
    jitter: float,
    as_json: bool,
) -> None:
    """Dial one campaign with WORKERS worker processes through a sandbox that answers 429 over
    its rate, and print what the sandbox saw."""
    import json

    from dialer.bench.pacing import run_pacing_bench
    from dialer.processes import unwind_on_sigterm

    unwind_on_sigterm()
    f = run_pacing_bench(
        rate,
        workers,
        seconds,
        sandbox_rate=sandbox_rate,
        database_url=database_url,
        traffic_file=traffic,
        cpu_hogs=cpu_hog,
        jitter_s=jitter,
    )
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    last = f"the last {f.last_429_after_s} s in" if f.last_429_after_s is not None else "none"
    click.echo(
        f"limiter {f.rate:g}/s, sandbox {f.sandbox_rate:g}/s, {f.workers} workers, "
        f"{f.seconds:g} s: {f.calls:,} calls, {f.achieved_per_s} calls/s; busiest second "
        f"{f.max_in_any_1s_window} calls ({f.max_requests_in_any_1s_window} requests); "
        f"{f.responses_429} responses 429 ({last}); {f.cpu_hogs} CPU hog(s), network jitter "
        f"up to {f.jitter_s:g} s"
    )


@click.command()
@click.option(
    "--contacts", default=2000, show_default=True, type=_COUNT, help="Contacts in the campaign."
)
@click.option("--workers", default=4, show_default=True, type=_PROCESSES, help="Worker processes.")
@click.option(
    "--fault-rate",
    default=0.1,
    show_default=True,
    type=_Finite(0, 1),
    help="The share of each fault.",
)
@click.option(
    "--kill-every", default=5.0, show_default=True, type=_SECONDS, help="Seconds between SIGKILLs."
)
@click.option(
    "--redis-restart-every",
    default=30.0,
    show_default=True,
    type=_SECONDS,
    help="Seconds between restarts.",
)
@click.option(
    "--max-minutes", default=60.0, show_default=True, type=_SECONDS, help="Give up after this."
)
@click.option(
    "--stall-minutes",
    default=5.0,
    show_default=True,
    type=_SECONDS,
    help="Stop, as stalled, when no contact has become final nor event been taken for this long.",
)
@click.option(
    "--database-url", help="A database to use (migrated to head); default: a fresh SQLite file."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: contacts, final, ...")
def chaos(
    contacts: int,
    workers: int,
    fault_rate: float,
    kill_every: float,
    redis_restart_every: float,
    max_minutes: float,
    stall_minutes: float,
    database_url: str | None,
    as_json: bool,
) -> None:
    """A campaign through the sandbox while workers are killed, Redis restarts and the
    provider and the webhook receiver misbehave; then what went wrong. Exits 1 unless every
    contact is final and nothing was over-dialled, orphaned or lost."""
    import json

    from dialer.chaos.run import run_chaos
    from dialer.processes import unwind_on_sigterm

    unwind_on_sigterm()
    f = run_chaos(
        contacts,
        workers,
        fault_rate=fault_rate,
        kill_every_s=kill_every,
        redis_every_s=redis_restart_every,
        max_minutes=max_minutes,
        stall_minutes=stall_minutes,
        database_url=database_url,
    )
    if as_json:
        click.echo(json.dumps(f.as_dict()))
    else:
        click.echo(
            f"{f.contacts:,} contacts, {f.final:,} final; {f.over_dialled} over-dialled, "
            f"{f.orphan_provider_calls} orphan provider calls, {f.lost_webhooks} lost webhooks "
            f"({f.provider_calls:,} calls, {f.webhook_events:,} events, {f.kills} workers "
            f"killed, {f.redis_restarts} Redis restarts, {f.seconds:g} s)"
        )
        outcomes = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(f.outcomes.items()))
        click.echo(
            f"outcomes: {outcomes}; {f.taken_back:,} attempts taken back unsent "
            f"(their workers died before the request left) and dialled again"
        )
        if f.stalled_after_s is not None:
            click.echo(f"stalled: nothing changed after {f.stalled_after_s:g} s; stopped")
    clean = f.final == f.contacts and not (
        f.over_dialled or f.orphan_provider_calls or f.lost_webhooks
    )
    sys.exit(0 if clean else 1)
