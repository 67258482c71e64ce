"""Sessions: a unit of work takes SQLite's write lock at BEGIN; a read takes none, so it neither
waits for a writer nor holds one back."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from dialer.config import to_driver_url
from dialer.db import make_async_engine, make_sessionmaker, read_scope, session_scope
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
