"""Database engines and sessions; SQLite gets WAL and a busy timeout so processes can share it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

__all__ = [
    "SessionMaker",
    "make_async_engine",
    "make_sessionmaker",
    "make_sync_engine",
    "read_scope",
    "session_scope",
]

SessionMaker = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _driver_begins_nothing(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_async_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _driver_begins_nothing)
        # aiosqlite opens a deferred transaction; take the write lock at BEGIN so two
        # processes never both read-then-upgrade and deadlock.
        event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def make_sync_engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# A session that only reads says so, and on SQLite then takes no write lock: WAL readers see a
# consistent snapshot without holding back the writers that dispatch depends on.
_READ_ONLY = "dialer_read_only"


def _begin_immediate(conn: Any) -> None:
    read_only = conn.get_execution_options().get(_READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(sessions: SessionMaker) -> AsyncIterator[AsyncSession]:
    """One unit of work: commits on success, rolls back on error. Services never commit."""
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def read_scope(sessions: SessionMaker) -> AsyncIterator[AsyncSession]:
    """A consistent read that writes nothing and, on SQLite, waits for no writer."""
    async with sessions() as session, session.begin():
        await session.connection(execution_options={_READ_ONLY: True})
        yield session
