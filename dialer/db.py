"""Database engines and sessions; SQLite gets WAL and a busy timeout so processes can share it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import await_only
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.outbox import EventSession
from dialer.sqlite_turns import ProcessTurns

__all__ = [
    "SessionMaker",
    "make_async_engine",
    "make_sessionmaker",
    "make_sync_engine",
    "read_scope",
    "session_scope",
]

SessionMaker = async_sessionmaker[AsyncSession]

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _cancelled_statement(context: ExceptionContext) -> None:
    """A statement whose task is cancelled (a job's timeout) stops now, and its connection is
    rolled back and kept, as after any failed statement.

    Left to SQLAlchemy, a cancellation counts as a lost connection: it throws the connection away
    without waiting for the driver's thread, which finishes the statement first (however long
    it runs) and may then leave the file's write lock held by a connection nobody has any more,
    for as long as that connection lives, while its turn goes to the next writer. SQLite's
    driver finishes each call in order on its own thread, so the connection is as sound as
    after any error."""
    if not isinstance(context.original_exception, asyncio.CancelledError):
        return
    context.is_disconnect = False
    connection = context.connection
    driver = connection.connection.driver_connection if connection is not None else None
    raw = getattr(driver, "_connection", None)  # aiosqlite's sqlite3 connection
    if isinstance(raw, sqlite3.Connection):
        raw.interrupt()  # the one call SQLite allows from another thread


def _driver_begins_nothing(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_async_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "connect", _driver_begins_nothing)
        database = engine.url.database or ":memory:"
        on_disk = database != ":memory:" and "mode=memory" not in url
        turns = _WriterTurns(ProcessTurns(database, _TURN_TIMEOUT_S) if on_disk else None)
        event.listen(engine.sync_engine, "begin", turns.begin)
        event.listen(engine.sync_engine, "commit", turns.end)
        event.listen(engine.sync_engine, "rollback", turns.end)
        event.listen(engine.sync_engine.pool, "checkin", turns.checked_in)
        event.listen(engine.sync_engine, "handle_error", _cancelled_statement)
        return engine
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=_POSTGRES_ARGS
    )


def make_sync_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, connect_args=_POSTGRES_ARGS)


# No JIT: PostgreSQL compiles a statement whose estimate is high (a page of results.csv, with
# its subqueries per row) for about 25 ms, and this program's statements never pay it back.
_POSTGRES_ARGS = {"options": "-c jit=off"}


# A session that only reads says so, and on SQLite then takes no write lock: WAL readers see a
# consistent snapshot without holding back the writers that dispatch depends on.
_READ_ONLY = "dialer_read_only"
_HOLDS_TURN = "dialer_holds_write_turn"
_TURN_TIMEOUT_S = 30.0  # as SQLite's own busy timeout
_REPORT_AFTER_S = 1.0
_REPORT_EVERY_S = 10.0


class _WriterTurns:
    """SQLite writers of one process take turns in an asyncio queue before they take the file's
    write lock. Left to SQLite, dozens of waiting connections poll the lock with sleeps of up to
    100 ms and it sits free between them; this way only one connection per process polls.

    A write transaction takes the lock at BEGIN (IMMEDIATE), so two processes never both
    read-then-upgrade and deadlock. Between processes, turns go round by dialer.sqlite_turns."""

    def __init__(self, processes: ProcessTurns | None) -> None:
        self._lock = asyncio.Lock()
        self._processes = processes
        # Who has this process's turn, for the warning a writer that gives up waiting logs.
        self._holder: asyncio.Task[Any] | None = None
        self._held_since = 0.0
        self._reported = -_REPORT_EVERY_S

    def begin(self, conn: Connection) -> None:
        if conn.get_execution_options().get(_READ_ONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        await_only(self._take_turn())
        conn.info[_HOLDS_TURN] = True
        self._holder, self._held_since = asyncio.current_task(), time.monotonic()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except Exception:
            # Refused (busy): no transaction. Cancelled, the BEGIN may yet run on the driver's
            # thread, so the turn goes back with the connection, after the pool's rollback.
            self._give_back(conn.info)
            raise

    def end(self, conn: Connection) -> None:
        self._give_back(conn.info)

    def checked_in(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # A transaction cut short (a cancelled job) may end with neither commit nor rollback.
        self._give_back(record.info)

    async def _take_turn(self) -> None:
        asked = time.monotonic()
        try:
            await self._wait_for_turn()
        except BaseException:
            self._report(time.monotonic() - asked)
            raise

    def _report(self, waited: float) -> None:
        """A write gave up waiting (a job's timeout, or the turn's): say who had the lock."""
        now = time.monotonic()
        if waited < _REPORT_AFTER_S or now - self._reported < _REPORT_EVERY_S:
            return
        self._reported = now
        holder = self._holder
        if holder is None:
            log.warning(
                "a write gave up after %.1f s waiting for another process's turn at "
                "the SQLite write lock",
                waited,
            )
            return
        log.warning(
            "a write gave up after %.1f s waiting for the SQLite write lock, held for %.1f s by %s",
            waited,
            now - self._held_since,
            _where(holder),
        )

    async def _wait_for_turn(self) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), _TURN_TIMEOUT_S)
        except TimeoutError as exc:
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        if self._processes is None:
            return
        try:
            await self._processes.acquire()
        except BaseException as exc:
            self._lock.release()
            if isinstance(exc, TimeoutError):
                raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            raise

    def _give_back(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_TURN, False):
            self._holder = None
            if self._processes is not None:
                self._processes.release()
            self._lock.release()


# Where this program's own code lives: the dialer package and the jobs beside it.
_OURS = (str(Path(__file__).parent), str(Path(__file__).parent.parent / "jobs"))


def _where(task: asyncio.Task[Any]) -> str:
    """The job or task that holds the turn, by the innermost of our functions it is in."""
    if task.done():
        return f"{task.get_name()}, which ended without giving it back"
    ours = [
        f"{frame.f_code.co_name} ({Path(frame.f_code.co_filename).name}:{frame.f_lineno})"
        for frame in task.get_stack()
        if frame.f_code.co_filename.startswith(_OURS)
    ]
    return ours[-1] if ours else repr(task.get_coro())


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return async_sessionmaker(
        engine, class_=AsyncSession, sync_session_class=EventSession, expire_on_commit=False
    )


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
