"""arq worker settings for `arq jobs.worker.WorkerSettings` and for `dialer worker`."""

from __future__ import annotations

import logging
from typing import Any, cast

from arq import Worker, cron, func
from arq.typing import WorkerCoroutine

from dialer.config import Settings, get_settings
from dialer.metrics import serve_worker_metrics
from dialer.runtime import CHECK_JOB, DIAL_JOB, DIALS_JOB, Runtime, redis_settings
from dialer.workers import shutdown_grace_s
from jobs.context import JobContext
from jobs.costs import cost_tick
from jobs.credit import credit_tick
from jobs.dispatch import dial_notification, dial_notifications, hopper_tick
from jobs.tracking import check_attempt
from jobs.webhooks import webhook_tick

__all__ = ["make_worker", "worker_options"]

log = logging.getLogger(__name__)


async def on_startup(ctx: JobContext) -> None:
    runtime = await Runtime.open(ctx.get("settings") or get_settings(), ctx["redis"])
    # Connections and scripts ready before the first job: a first dial that opens them goes
    # out late, and a late dial crowds the provider's window for the next ones.
    await runtime.warm()
    ctx["runtime"] = runtime
    port = runtime.settings.metrics_port
    if port is not None:
        serve_worker_metrics(runtime.settings.metrics_host, port)
    log.info("worker ready")


async def on_shutdown(ctx: JobContext) -> None:
    runtime = ctx.get("runtime")
    if runtime is not None:
        # The pool belongs to arq, which closes it itself.
        await runtime.templates.close()
        await runtime.http.aclose()
        await runtime.engine.dispose()


def _functions(settings: Settings) -> list[Any]:
    # keep_result=0 frees a job's id when it ends, so the hopper can enqueue that work again.
    return [
        func(
            cast(WorkerCoroutine, dial_notification),
            name=DIAL_JOB,
            keep_result=0,
            timeout=settings.job_timeout_s,
        ),
        func(
            cast(WorkerCoroutine, dial_notifications),
            name=DIALS_JOB,
            keep_result=0,
            timeout=settings.job_timeout_s,
        ),
        func(
            cast(WorkerCoroutine, check_attempt),
            name=CHECK_JOB,
            keep_result=0,
            timeout=settings.job_timeout_s,
        ),
    ]


def _cron_jobs(settings: Settings) -> list[Any]:
    # arq leases a running job for (longest timeout + 10 s); keep every timeout the same.
    # The credit watcher looks every 5 s, and reads balances once per its own interval.
    return [
        cron(
            cast(WorkerCoroutine, tick),
            second=seconds,
            unique=True,
            run_at_startup=True,
            keep_result=0,
            timeout=settings.job_timeout_s,
        )
        for tick, seconds in (
            (hopper_tick, set(range(60))),
            (credit_tick, set(range(0, 60, 5))),
            (webhook_tick, set(range(60))),
            (cost_tick, set(range(0, 60, 5))),
        )
    ]


def worker_options(settings: Settings, redis_url: str) -> dict[str, Any]:
    return {
        "functions": _functions(settings),
        "cron_jobs": _cron_jobs(settings),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "redis_settings": redis_settings(redis_url),
        "ctx": {"settings": settings},
        "max_jobs": 20,
        "job_timeout": settings.job_timeout_s,
        "poll_delay": 0.2,
        "handle_signals": True,
        "job_completion_wait": shutdown_grace_s(settings),
        # Results are never read, and a kept one blocks its job id from being enqueued again;
        # arq stores some failures (a job whose data vanished) under this worker-wide default.
        "keep_result": 0,
    }


def make_worker(settings: Settings, redis_url: str, **overrides: Any) -> Worker:
    options = {**worker_options(settings, redis_url), **overrides}
    if options.get("burst"):
        # A burst drains the queue and stops; the every-second hopper would keep it busy forever.
        options["cron_jobs"] = []
    return Worker(**options)


def __getattr__(name: str) -> Any:
    # `arq jobs.worker.WorkerSettings` (the Procfile) takes a mapping of Worker arguments; it is
    # built on first use so that importing this module reads no settings.
    if name == "WorkerSettings":
        settings = get_settings()
        if not settings.redis_url:
            raise RuntimeError("DIALER_REDIS_URL is not set: the arq command needs a Redis URL")
        return worker_options(settings, settings.redis_url)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
