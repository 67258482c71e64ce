"""Sessions: a unit of work takes SQLite's write lock at BEGIN; a read takes none, so it neither
waits for a writer nor holds one back."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.config import to_driver_url
from dialer.db import SessionMaker, make_async_engine, make_sessionmaker, read_scope, session_scope
from dialer.models import ApiKey

# Long enough to be sure nothing is merely slow; the busy timeout is 30 s.
_PATIENCE_S = 10.0


async def test_a_read_does_not_wait_for_a_writer_nor_block_one(database_url: str) -> None:
    url = to_driver_url(database_url, asynchronous=True)
    writer_engine, reader_engine = make_async_engine(url), make_async_engine(url)
    writers, readers = make_sessionmaker(writer_engine), make_sessionmaker(reader_engine)
    try:
        async with session_scope(writers) as writing:
            writing.add(ApiKey(name="held", prefix="held", key_hash="x"))
            await writing.flush()

            async def read() -> list[str]:
                async with read_scope(readers) as session:
                    rows = await session.exec(select(ApiKey.name))
                    return list(rows.all())

            names = await asyncio.wait_for(read(), _PATIENCE_S)
        assert "held" not in names  # the writer had not committed when the read began

        async def write() -> None:
            async with session_scope(writers) as writing:
                writing.add(ApiKey(name="second", prefix="second", key_hash="y"))

        async with read_scope(readers) as session:
            assert "held" in (await session.exec(select(ApiKey.name))).all()
            await asyncio.wait_for(write(), _PATIENCE_S)  # while this read is still open
        async with read_scope(readers) as session:
            assert {"held", "second"} <= set((await session.exec(select(ApiKey.name))).all())
    finally:
        await writer_engine.dispose()
        await reader_engine.dispose()


async def test_many_writers_in_one_process_all_get_their_turn(database_url: str) -> None:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    sessions = make_sessionmaker(engine)

    async def write(i: int) -> None:
        async with session_scope(sessions) as session:
            session.add(ApiKey(name=f"k{i}", prefix=f"k{i}", key_hash="x"))
            await session.flush()
            await asyncio.sleep(0)  # let the others queue up behind this one

    try:
        await asyncio.wait_for(asyncio.gather(*(write(i) for i in range(40))), _PATIENCE_S)
        async with read_scope(sessions) as session:
            assert len((await session.exec(select(ApiKey.id))).all()) == 40
    finally:
        await engine.dispose()


async def test_a_writer_cancelled_mid_transaction_gives_its_turn_back(database_url: str) -> None:
    # A job whose timeout is about to cancel it, waiting for something else.
    await _cancelled_then_the_next_writes(database_url, lambda _: asyncio.Event().wait())


async def test_a_writer_cancelled_in_a_long_statement_stops_it_and_gives_the_lock_back(
    database_url: str,
) -> None:
    # Most of a minute: on SQLite on the driver's thread, on PostgreSQL in the server.
    long_statement = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000000) "
        "SELECT count(*) FROM c"
        if database_url.startswith("sqlite")
        else "SELECT pg_sleep(45)"
    )

    async def run(session: AsyncSession) -> None:
        await session.exec(long_statement)

    await _cancelled_then_the_next_writes(database_url, run)


async def _cancelled_then_the_next_writes(
    database_url: str, stuck_in: Callable[[AsyncSession], Awaitable[object]]
) -> None:
    """A writer cancelled while `stuck_in` its transaction ends, writes nothing, and the next
    writer gets its turn: on PostgreSQL, the same key the first one had written and not
    committed, which waits for the first's transaction to end."""
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    sessions = make_sessionmaker(engine)
    inside = asyncio.Event()

    async def stuck() -> None:
        async with session_scope(sessions) as session:
            session.add(ApiKey(name="lost", prefix="lost", key_hash="x"))
            await session.flush()
            inside.set()
            await stuck_in(session)

    try:
        task = asyncio.create_task(stuck())
        await inside.wait()
        await asyncio.sleep(0.2)  # well under way
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), _PATIENCE_S)
        async with asyncio.timeout(_PATIENCE_S), session_scope(sessions) as session:
            session.add(ApiKey(name="next", prefix="lost", key_hash="y"))
        async with read_scope(sessions) as session:
            assert list(await session.exec(select(ApiKey.name, ApiKey.key_hash))) == [("next", "y")]
    finally:
        await engine.dispose()


async def test_writers_cancelled_at_any_moment_always_give_their_turn_back(
    sqlite_sessions: SessionMaker,
) -> None:
    sessions = sqlite_sessions
    rng = random.Random(19)

    async def write(name: str) -> None:
        async with session_scope(sessions) as session:
            session.add(ApiKey(name=name, prefix=name, key_hash="x"))
            await session.flush()
            await session.exec(select(ApiKey.id).limit(1))

    async def ticks(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    for round_ in range(300):
        writers = [asyncio.create_task(write(f"w{round_}.{i}")) for i in range(3)]
        await ticks(rng.randrange(40))
        writers[0].cancel()
        if rng.random() < 0.5:  # cancelled again while it cleans up
            await ticks(rng.randrange(10))
            writers[0].cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        await asyncio.wait_for(write(f"after{round_}"), _PATIENCE_S)


async def test_a_write_that_gives_up_waiting_says_who_holds_the_lock(
    sqlite_sessions: SessionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = sqlite_sessions
    held, done = asyncio.Event(), asyncio.Event()

    async def holding_the_turn() -> None:
        async with session_scope(sessions) as session:
            session.add(ApiKey(name="slow", prefix="slow", key_hash="x"))
            await session.flush()
            held.set()
            await done.wait()

    async def waiting() -> None:
        async with session_scope(sessions) as session:
            session.add(ApiKey(name="late", prefix="late", key_hash="y"))

    holder = asyncio.create_task(holding_the_turn())
    await held.wait()
    waiter = asyncio.create_task(waiting())
    await asyncio.sleep(1.5)
    waiter.cancel()  # its job's timeout
    with pytest.raises(asyncio.CancelledError):
        await waiter
    done.set()
    await holder
    warnings = [r.getMessage() for r in caplog.records if r.name == "dialer.db"]
    assert len(warnings) == 1, warnings
    assert "gave up after 1." in warnings[0] and "holding_the_turn" in warnings[0]
