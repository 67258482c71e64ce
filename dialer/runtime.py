"""What a web process or a worker needs at hand: settings, database, provider clients, the queue."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from dialer.config import Settings
from dialer.db import SessionMaker, make_async_engine, make_sessionmaker, make_sync_engine
from dialer.group_commit import GroupCommit
from dialer.outbox import count_finished_attempts
from dialer.pacing.limiter import Limiter
from dialer.providers.base import Provider
from dialer.providers.voxology import FlowCallback, VoxologyProvider
from dialer.providers.xoxzo import XoxzoProvider
from dialer.room import Room
from dialer.security import FLOW_SECRET_HEADER, flow_secret
from dialer.user_templates import TemplatePool

__all__ = [
    "CHECK_JOB",
    "DIALS_JOB",
    "DIAL_JOB",
    "Runtime",
    "check_job_id",
    "dial_job_id",
    "enqueue_check",
    "enqueue_dial",
    "enqueue_dials",
    "redis_settings",
]

log = logging.getLogger(__name__)

DIAL_JOB = "dial_notification"
_CONNECTIONS = 50
# As many as a worker ran when each dial was a job of its own (arq's max_jobs): a worker that
# dies leaves no more requests unanswered, and so reconciled, than it did then.
SENDS_AT_ONCE = 20
# Dials a worker has claimed and not yet seen answered: two batches. A worker claims no further
# ahead of what it can send; the rest stay queued in SQL, for any worker.
CLAIMED_AT_ONCE = 100
DIALS_JOB = "dial_notifications"
CHECK_JOB = "check_attempt"


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


def dial_job_id(notification_id: int) -> str:
    return f"dial:{notification_id}"


def check_job_id(attempt_id: int) -> str:
    return f"check:{attempt_id}"


async def enqueue_dial(redis: ArqRedis, notification_id: int) -> None:
    # One job id per notification: arq drops a second enqueue while the first is waiting.
    await redis.enqueue_job(DIAL_JOB, notification_id, _job_id=dial_job_id(notification_id))


async def enqueue_dials(
    redis: ArqRedis, notification_ids: list[int], *, at: datetime | None = None
) -> bool:
    """One job for a batch of one account's due notifications, started at once or at `at`.
    Its id is made of theirs, so the same batch enqueued again by the next tick while it waits
    is dropped as a duplicate (False)."""
    digest = hashlib.blake2b(",".join(map(str, notification_ids)).encode(), digest_size=12)
    job_id = f"dials:{digest.hexdigest()}"
    job = await redis.enqueue_job(DIALS_JOB, notification_ids, _job_id=job_id, _defer_until=at)
    return job is not None


async def enqueue_check(redis: ArqRedis, attempt_id: int) -> None:
    await redis.enqueue_job(CHECK_JOB, attempt_id, _job_id=check_job_id(attempt_id))


def build_providers(settings: Settings, client: httpx.AsyncClient) -> dict[str, Provider]:
    """Xoxzo always; Voxology once VOXOLOGY_API_KEY is set."""
    providers: dict[str, Provider] = {
        "xoxzo": XoxzoProvider(
            client,
            sid=settings.xoxzo_sid,
            auth_token=settings.xoxzo_auth_token.get_secret_value(),
            base_url=settings.xoxzo_api_url,
        )
    }
    if settings.voxology_api_key is not None:
        basic = settings.voxology_basic_auth
        secret = flow_secret(settings.secret_key.get_secret_value())
        providers["voxology"] = VoxologyProvider(
            client,
            api_key=settings.voxology_api_key.get_secret_value(),
            base_url=settings.voxology_api_url,
            basic_auth=basic.get_secret_value() if basic else None,
            flow_callback=FlowCallback(
                url=f"{settings.public_url.rstrip('/')}/v1/flows/voxology",
                headers={FLOW_SECRET_HEADER: secret},
                failover=settings.voxology_failover_url,
                take_over=settings.voxology_take_over_numbers,
            ),
        )
    return providers


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionMaker
    http: httpx.AsyncClient
    providers: dict[str, Provider]
    redis: ArqRedis
    limiter: Limiter
    # Users' templates render here, never in the event loop.
    templates: TemplatePool
    _sync_engine: Engine | None = field(default=None, repr=False)
    # The dial path's short write transactions, one after another in the order they come.
    writes: GroupCommit = field(init=False, repr=False)

    # Dials between their clearance to leave and their answer, fewer than the HTTP pool's
    # connections, which status checks and balance reads share.
    sends: asyncio.Semaphore = field(init=False, repr=False)
    claimed: Room = field(init=False, repr=False)
    # results.csv of large campaigns, made by export processes: one at a time.
    exports: asyncio.Semaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.writes = GroupCommit(self.sessions, self.settings.write_group)
        self.sends = asyncio.Semaphore(SENDS_AT_ONCE)
        self.claimed = Room(CLAIMED_AT_ONCE)
        self.exports = asyncio.Semaphore(1)

    @classmethod
    async def open(cls, settings: Settings, redis: ArqRedis | str) -> Runtime:
        """Open everything; `redis` is a pool to share, or a URL to open one from."""
        engine = make_async_engine(settings.async_database_url)
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.provider_timeout_s, connect=5.0),
            # An idle connection is dropped well before the server's own idle timeout (uvicorn's
            # and many proxies' is 5 s, httpx's default expiry too): a POST written just as the
            # server closes the socket fails with no answer, an ambiguous call that never rang.
            limits=httpx.Limits(
                max_connections=_CONNECTIONS, max_keepalive_connections=20, keepalive_expiry=2.0
            ),
        )
        if isinstance(redis, str):
            redis = await create_pool(redis_settings(redis))
        count_finished_attempts()
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            http=http,
            providers=build_providers(settings, http),
            redis=redis,
            # A request unanswered past the provider timeout is over, one way or another.
            limiter=Limiter(redis, in_flight_s=settings.provider_timeout_s + 1.0),
            templates=TemplatePool(
                size=settings.template_processes,
                budget_s=settings.template_budget_s,
                memory_mb=settings.template_memory_mb,
            ),
        )

    async def warm(self) -> None:
        """Open a database connection and load the limiter's scripts into Redis."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        await self.limiter.load()

    @property
    def xoxzo(self) -> XoxzoProvider:
        provider = self.providers["xoxzo"]
        assert isinstance(provider, XoxzoProvider)
        return provider

    @property
    def sync_engine(self) -> Engine:
        """For bulk work on a thread (contact imports), where the drivers' own bulk paths run."""
        if self._sync_engine is None:
            self._sync_engine = make_sync_engine(self.settings.sync_database_url)
        return self._sync_engine

    async def close(self) -> None:
        await self.templates.close()
        if self._sync_engine is not None:
            self._sync_engine.dispose()
        await self.http.aclose()
        await self.redis.aclose()
        await self.engine.dispose()
