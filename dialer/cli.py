"""The `dialer` command."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
import uvicorn

from dialer.campaigns.cli import campaign
from dialer.config import Settings, get_settings
from dialer.pacing.cli import numbers
from dialer.terminal import printable

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from dialer.din.actions import DinAction
    from dialer.models import Din
    from dialer.providers.xoxzo import DinOffer, XoxzoProvider

T = TypeVar("T")

__all__ = ["main"]


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade_if_embedded(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        from dialer.migrations import upgrade_to_head

        upgrade_to_head(settings.database_url)


@contextlib.contextmanager
def _redis_url(settings: Settings) -> Iterator[str]:
    """DIALER_REDIS_URL if set, else a redis-server of our own for as long as we run."""
    if settings.redis_url:
        yield settings.redis_url
        return
    from dialer.redis_embedded import EmbeddedRedis

    with EmbeddedRedis() as embedded:
        yield embedded.url


def _require_redis(settings: Settings) -> str:
    if not settings.redis_url:
        raise click.ClickException(
            "DIALER_REDIS_URL is not set: use `dialer up` for an embedded Redis"
        )
    return settings.redis_url


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """dialer: campaign and notification dialer for Xoxzo and Voxology."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="arq workers in this process.")
def up(host: str, port: int, workers: int) -> None:
    """Web and worker together; embedded Redis and SQLite unless configured."""
    from dialer.serve import running_services

    settings = _settings()
    _upgrade_if_embedded(settings)

    async def serve(redis_url: str) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running_services(
            settings, redis_url, host=host, port=port, workers=workers
        ) as services:
            click.echo(f"dialer up: API at {services.web_url}, {workers} worker(s); Ctrl-C stops")
            await stop.wait()

    with _redis_url(settings) as redis_url:
        asyncio.run(serve(redis_url))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def web(host: str, port: int) -> None:
    """The REST API and provider callbacks (needs DIALER_REDIS_URL)."""
    from dialer.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings, _require_redis(settings)), host=host, port=port)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """An arq worker (needs DIALER_REDIS_URL)."""
    from jobs.worker import make_worker

    settings = _settings()
    make_worker(settings, _require_redis(settings), burst=burst).run()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True)
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    help="Provider seconds per real second; 0.01 rings for 1/100 of the time.",
)
@click.option("--rate", default=0.0, show_default=True, help="Requests/s before 429; 0: none.")
@click.option("--balance", default=10_000.0, show_default=True, help="Starting credits.")
@click.option(
    "--min-credits",
    default=50.0,
    show_default=True,
    help="Voice calls are refused (403) below this balance.",
)
@click.option("--seed", default=1, show_default=True)
def sandbox(
    host: str,
    port: int,
    time_scale: float,
    rate: float,
    balance: float,
    min_credits: float,
    seed: int,
) -> None:
    """The provider simulator. Credentials: XOXZO_SID and XOXZO_AUTH_TOKEN, as the dialer's."""
    from dialer.sandbox import SandboxConfig, create_sandbox_app

    settings = _settings()
    config = SandboxConfig(
        sid=settings.xoxzo_sid,
        auth_token=settings.xoxzo_auth_token.get_secret_value(),
        time_scale=time_scale,
        rate=rate,
        balance=balance,
        min_credits=min_credits,
        seed=seed,
    )
    if settings.voxology_api_key is not None:
        config.voxology_api_key = settings.voxology_api_key.get_secret_value()
    if settings.voxology_basic_auth is not None:
        config.voxology_basic_auth = settings.voxology_basic_auth.get_secret_value()
    uvicorn.run(create_sandbox_app(config), host=host, port=port, log_level="warning")


@main.command()
@click.option("--count", default=20, show_default=True)
@click.option("--time-scale", default=0.05, show_default=True)
def demo(count: int, time_scale: float) -> None:
    """COUNT TTS calls and one of every other channel through the sandbox, all embedded."""
    from dialer.demo import run_demo

    sys.exit(run_demo(count=count, time_scale=time_scale))


@main.group()
def bench() -> None:
    """Benchmarks that print what they measure on this machine."""


@bench.command("import")
@click.option("--rows", default=1_000_000, show_default=True)
@click.option(
    "--database-url",
    help="A database to import into (migrated to head); default: a fresh SQLite file.",
)
@click.option("--batch-size", default=20_000, show_default=True)
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
        f"{figures.rows:,} rows in {figures.seconds:.1f} s: {figures.rows_per_s:,.0f} rows/s, "
        f"peak RSS {figures.peak_rss_mb:.0f} MB "
        f"(imported {r.imported:,}, duplicate {r.duplicate:,}, invalid {r.invalid:,})"
    )


@bench.command("templates")
@click.option("--renders", default=5_000, show_default=True)
@click.option("--processes", default=2, show_default=True)
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
@click.option("--contacts", default=10_000, show_default=True)
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option("--ticks", default=5, show_default=True, help="Hopper ticks with no worker.")
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
@click.option("--rate", default=20.0, show_default=True, help="The limiter's calls/s.")
@click.option("--workers", default=4, show_default=True, help="Worker processes.")
@click.option("--seconds", default=60.0, show_default=True, help="How long to measure.")
@click.option("--sandbox-rate", type=float, help="The sandbox's own limit; default: --rate.")
@click.option(
    "--database-url",
    help="A database to use (migrated to head); default: a fresh SQLite file.",
)
@click.option(
    "--traffic",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every request the sandbox counted (time, request, accepted) here, as JSON.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: achieved_per_s, ...")
def bench_pacing(
    rate: float,
    workers: int,
    seconds: float,
    sandbox_rate: float | None,
    database_url: str | None,
    traffic: Path | None,
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
    )
    if as_json:
        click.echo(json.dumps(f.as_dict()))
        return
    last = f"the last {f.last_429_after_s} s in" if f.last_429_after_s is not None else "none"
    click.echo(
        f"limiter {f.rate:g}/s, sandbox {f.sandbox_rate:g}/s, {f.workers} workers, "
        f"{f.seconds:g} s: {f.calls:,} calls, {f.achieved_per_s} calls/s; busiest second "
        f"{f.max_in_any_1s_window} calls ({f.max_requests_in_any_1s_window} requests); "
        f"{f.responses_429} responses 429 ({last})"
    )


@main.command()
@click.option("--contacts", default=2000, show_default=True, help="Contacts in the campaign.")
@click.option("--workers", default=4, show_default=True, help="Worker processes.")
@click.option("--fault-rate", default=0.1, show_default=True, help="The share of each fault.")
@click.option("--kill-every", default=5.0, show_default=True, help="Seconds between SIGKILLs.")
@click.option(
    "--redis-restart-every", default=30.0, show_default=True, help="Seconds between restarts."
)
@click.option("--max-minutes", default=60.0, show_default=True, help="Give up after this.")
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
    clean = f.final == f.contacts and not (
        f.over_dialled or f.orphan_provider_calls or f.lost_webhooks
    )
    sys.exit(0 if clean else 1)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (alembic upgrade head)."""
    from dialer.migrations import upgrade_to_head

    upgrade_to_head(_settings().database_url)


@main.group()
def apikey() -> None:
    """API keys."""


async def _in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from dialer.db import make_async_engine, make_sessionmaker, session_scope

    engine = make_async_engine(settings.async_database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


@apikey.command("create")
@click.option("--name", default="default", show_default=True)
def apikey_create(name: str) -> None:
    """Create an API key and print it alone on stdout; it is shown only once."""
    from dialer.apikeys import create_api_key

    settings = _settings()
    _upgrade_if_embedded(settings)
    click.echo(asyncio.run(_in_session(settings, lambda s: create_api_key(s, name))))


@apikey.command("list")
def apikey_list() -> None:
    """The API keys: prefix, name, created, revoked. Keys themselves are not stored."""
    from dialer.apikeys import list_api_keys

    for key in asyncio.run(_in_session(_settings(), list_api_keys)):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        name = printable(key.name, 80)
        click.echo(f"{key.prefix}  {name}  {key.created_at:%Y-%m-%d %H:%M}  revoked: {revoked}")


@apikey.command("revoke")
@click.argument("prefix")
def apikey_revoke(prefix: str) -> None:
    """Revoke a key by its PREFIX, the part after `dk_` (see `apikey list`)."""
    from dialer.apikeys import revoke_api_key

    if asyncio.run(_in_session(_settings(), lambda s: revoke_api_key(s, prefix))) is None:
        raise click.ClickException(f"no API key with prefix {prefix!r}")
    click.echo(f"revoked {prefix}")


@main.group()
def din() -> None:
    """Xoxzo Dial In Numbers: the numbers people call back on."""


async def _with_xoxzo(
    settings: Settings, work: Callable[[AsyncSession, XoxzoProvider], Awaitable[T]]
) -> T:
    import httpx

    from dialer.providers.xoxzo import XoxzoProvider

    async with httpx.AsyncClient(timeout=settings.provider_timeout_s) as client:
        xoxzo = XoxzoProvider(
            client,
            sid=settings.xoxzo_sid,
            auth_token=settings.xoxzo_auth_token.get_secret_value(),
            base_url=settings.xoxzo_api_url,
        )
        return await _in_session(settings, lambda session: work(session, xoxzo))


def _run_provider(coroutine: Awaitable[T]) -> T:
    from dialer.providers.base import ProviderError

    async def run() -> T:
        return await coroutine

    try:
        return asyncio.run(run())
    except ProviderError as exc:
        raise click.ClickException(f"Xoxzo: {exc.kind}: {exc.message}") from exc


def _action(text: str | None) -> DinAction | None:
    from dialer.din.actions import InvalidAction, parse_action

    if text is None:
        return None
    try:
        return parse_action(text)
    except InvalidAction as exc:
        raise click.BadParameter(str(exc), param_hint="--action") from exc


def _din_line(d: Din) -> str:
    return printable(f"{d.din_uid}  {d.number}  {d.action or '(default action)'}", 300)


@din.command("search")
@click.option("--country", help="Two letters, e.g. JP.")
@click.option("--prefix", help="Digits the number starts with, country code included: 813.")
def din_search(country: str | None, prefix: str | None) -> None:
    """DINs available to subscribe."""
    settings = _settings()

    async def search(_session: AsyncSession, xoxzo: XoxzoProvider) -> list[DinOffer]:
        return await xoxzo.search_dins(country=country, prefix=prefix)

    for offer in _run_provider(_with_xoxzo(settings, search)):
        click.echo(
            f"{offer.din_uid}  {offer.number}  {offer.monthly_cost or 0:g}/month  "
            f"{offer.minute_cost or 0:g}/minute"
        )


@din.command("subscribe")
@click.argument("din_uid")
@click.option("--action", help='What callers hear by default, e.g. say en "Hello".')
def din_subscribe(din_uid: str, action: str | None) -> None:
    """Subscribe to DIN_UID and point it at this service's action server."""
    from dialer.din.service import subscribe_din
    from dialer.security import din_token

    settings = _settings()
    parsed = _action(action)
    _upgrade_if_embedded(settings)
    token = din_token(settings.secret_key.get_secret_value(), din_uid)
    url = f"{settings.public_url.rstrip('/')}/v1/din/action/{din_uid}/{token}"

    async def subscribe(session: AsyncSession, xoxzo: XoxzoProvider) -> str:
        return _din_line(await subscribe_din(session, xoxzo, din_uid, url, parsed))

    click.echo(_run_provider(_with_xoxzo(settings, subscribe)))


@din.command("action")
@click.argument("din_uid")
@click.argument("action", required=False)
def din_action(din_uid: str, action: str | None) -> None:
    """Set what callers to DIN_UID hear by default; no ACTION: the service default."""
    from dialer.din.service import set_din_action

    parsed = _action(action)

    async def update(session: AsyncSession) -> str | None:
        found = await set_din_action(session, din_uid, parsed)
        return None if found is None else _din_line(found)

    line = asyncio.run(_in_session(_settings(), update))
    if line is None:
        raise click.ClickException(f"no subscribed DIN {din_uid}")
    click.echo(line)


@din.command("list")
def din_list() -> None:
    """The DINs this service subscribes to."""
    from dialer.din.service import active_dins

    async def listed(session: AsyncSession) -> list[str]:
        return [_din_line(d) for d in await active_dins(session)]

    for line in asyncio.run(_in_session(_settings(), listed)):
        click.echo(line)


@din.command("unsubscribe")
@click.argument("din_uid")
def din_unsubscribe(din_uid: str) -> None:
    """Cancel the subscription to DIN_UID."""
    from dialer.din.service import unsubscribe_din

    async def cancel(session: AsyncSession, xoxzo: XoxzoProvider) -> bool:
        return await unsubscribe_din(session, xoxzo, din_uid) is not None

    if not _run_provider(_with_xoxzo(_settings(), cancel)):
        raise click.ClickException(f"no subscribed DIN {din_uid}")
    click.echo(f"unsubscribed {din_uid}")


main.add_command(campaign)
main.add_command(numbers)
