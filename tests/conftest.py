"""Real parts for every test: a redis-server, SQLite and PostgreSQL, the sandbox over HTTP."""

from __future__ import annotations

import itertools
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from arq import create_pool
from arq.connections import ArqRedis

from dialer.apikeys import create_api_key
from dialer.config import Settings, to_driver_url
from dialer.db import SessionMaker, make_async_engine, make_sessionmaker, session_scope
from dialer.migrations import upgrade_to_head
from dialer.redis_embedded import EmbeddedRedis
from dialer.runtime import Runtime, redis_settings
from dialer.sandbox import SandboxConfig, create_sandbox_app
from dialer.serve import free_port, free_ports, running_server
from tests.postgres import PostgresCluster
from tests.stack import processes, stack
from tests.support import Harness, make_settings
from tests.webhooks.receiver import Receiver

__all__ = ["processes", "stack"]  # end-to-end fixtures, defined in tests/stack.py


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A skipped test is a failure here: every test must run on every machine, CI included."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which this suite does not allow: {report.longrepr}"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(redis_settings(redis_url))
    await pool.flushall()
    yield pool
    await pool.aclose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    cluster = PostgresCluster(free_port())
    url = cluster.start()
    try:
        yield url
    finally:
        cluster.stop()


def _pg_url(server_url: str, database: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> str:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE dialer_template")
    upgrade_to_head(_pg_url(postgres_url, "dialer_template"))
    return "dialer_template"


_databases = itertools.count()


def make_database_url(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> str:
    """A freshly migrated database of this kind (sqlite or postgresql) for one test."""
    if kind == "sqlite":
        path = tmp_path / "dialer.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres_url")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{next(_databases)}"
    with psycopg.connect(server, autocommit=True) as conn:
        # FILE_COPY: 0.17 s a database here, against 0.26 s for PostgreSQL 15's WAL_LOG.
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
    return _pg_url(server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database of each kind, one per test."""
    return make_database_url(request, tmp_path, request.param)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionMaker]:
    """Sessions on the test's database, without the web app or a runtime."""
    async with _sessions_on(database_url) as made:
        yield made


@pytest.fixture
def sqlite_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated SQLite database: a module whose subject is not the database makes
    its `database_url` this one (see SQLITE_ONLY in tests.support for one test)."""
    return make_database_url(request, tmp_path, "sqlite")


@pytest.fixture
async def sqlite_sessions(sqlite_database_url: str) -> AsyncIterator[SessionMaker]:
    """Sessions on a fresh SQLite database, for what only SQLite shows: its one write lock, the
    VM steps a query takes."""
    async with _sessions_on(sqlite_database_url) as made:
        yield made


@asynccontextmanager
async def _sessions_on(database_url: str) -> AsyncIterator[SessionMaker]:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def harness(database_url: str, redis: ArqRedis, redis_url: str) -> AsyncIterator[Harness]:
    """The web app and the sandbox, each on its own port; no worker unless a test starts one."""
    web_port, sandbox_port = free_ports(2)
    settings: Settings = make_settings(database_url, web_port=web_port, sandbox_port=sandbox_port)
    assert settings.voxology_api_key is not None and settings.voxology_basic_auth is not None
    sandbox_config = SandboxConfig(
        sid=settings.xoxzo_sid,
        auth_token=settings.xoxzo_auth_token.get_secret_value(),
        voxology_api_key=settings.voxology_api_key.get_secret_value(),
        voxology_basic_auth=settings.voxology_basic_auth.get_secret_value(),
        time_scale=0.01,
    )
    sandbox_app = create_sandbox_app(sandbox_config)
    from dialer.app import create_app

    web_app = create_app(settings, redis_url)
    async with (
        running_server(sandbox_app, "127.0.0.1", sandbox_port),
        running_server(web_app, "127.0.0.1", web_port),
    ):
        runtime = await Runtime.open(settings, redis_url)
        try:
            async with session_scope(runtime.sessions) as session:
                key = await create_api_key(session, "tests")
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{web_port}",
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ) as api:
                yield Harness(
                    settings=settings,
                    runtime=runtime,
                    redis_url=redis_url,
                    sandbox=sandbox_app.state.account,
                    sandbox_url=f"http://127.0.0.1:{sandbox_port}",
                    api=api,
                    api_key=key,
                    web_app=web_app,
                )
        finally:
            await runtime.close()


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    """A webhook receiver, and the URL of its events endpoint."""
    receiver = Receiver()
    port = free_port()
    async with running_server(receiver.app(), "127.0.0.1", port):
        yield receiver, f"http://127.0.0.1:{port}/events"
