"""arq worker settings for `arq jobs.worker.WorkerSettings` and for `dialer worker`."""

from __future__ import annotations

import logging
from typing import Any, cast

from arq import Worker, cron, func
from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine

from dialer.config import Settings, get_settings
from dialer.runtime import CHECK_JOB, DIAL_JOB, Runtime, redis_settings
from jobs.context import JobContext
from jobs.dispatch import dial_notification, hopper_tick
from jobs.tracking import check_attempt

__all__ = ["WorkerSettings", "make_worker"]

log = logging.getLogger(__name__)


async def on_startup(ctx: JobContext) -> None:
    ctx["runtime"] = await Runtime.open(ctx.get("settings") or get_settings(), ctx["redis"])


async def on_shutdown(ctx: JobContext) -> None:
    runtime = ctx.get("runtime")
    if runtime is not None:
        # The pool belongs to arq, which closes it itself.
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
            cast(WorkerCoroutine, check_attempt),
            name=CHECK_JOB,
            keep_result=0,
            timeout=settings.job_timeout_s,
        ),
    ]


def _cron_jobs(settings: Settings) -> list[Any]:
    # arq leases a running job for (longest timeout + 10 s); keep every timeout the same.
    return [
        cron(
            cast(WorkerCoroutine, hopper_tick),
            second=set(range(60)),
            unique=True,
            run_at_startup=True,
            keep_result=0,
            timeout=settings.job_timeout_s,
        )
    ]


def _worker_options(settings: Settings) -> dict[str, Any]:
    return {
        "functions": _functions(settings),
        "cron_jobs": _cron_jobs(settings),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "max_jobs": 20,
        "job_timeout": settings.job_timeout_s,
        "poll_delay": 0.2,
        "handle_signals": True,
    }


def make_worker(settings: Settings, redis_url: str, **overrides: Any) -> Worker:
    options = {
        **_worker_options(settings),
        "redis_settings": redis_settings(redis_url),
        "ctx": {"settings": settings},
        **overrides,
    }
    return Worker(**options)


class WorkerSettings:
    """For the `arq` command of the Procfile; reads the same environment as the service."""

    _settings = get_settings()
    functions = _functions(_settings)
    cron_jobs = _cron_jobs(_settings)
    on_startup = on_startup
    on_shutdown = on_shutdown
    max_jobs = 20
    job_timeout = _settings.job_timeout_s
    poll_delay = 0.2
    redis_settings: RedisSettings = redis_settings(_settings.redis_url or "redis://127.0.0.1:6379")
