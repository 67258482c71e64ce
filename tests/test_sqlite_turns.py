"""Writers of one SQLite file in different processes take turns at its write lock."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

from sqlmodel import col, func, select

from dialer.config import to_driver_url
from dialer.db import (
    SessionMaker,
    make_async_engine,
    make_sessionmaker,
    read_scope,
    session_scope,
)
from dialer.models import ApiKey
from tests.support import wait_for

# Another process writing one transaction after another, each holding the lock for 5 ms, until
# told to stop (a file), or 5,000 of them.
_BUSY_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from dialer.db import make_async_engine, make_sessionmaker, session_scope
    from dialer.models import ApiKey

    async def main(url: str, stop: Path) -> None:
        engine = make_async_engine(url)
        sessions = make_sessionmaker(engine)
        for i in range(5000):
            if stop.exists():
                break
            async with session_scope(sessions) as session:
                session.add(ApiKey(name=f"b{i}", prefix=f"b{i}", key_hash="x"))
                await session.flush()
                await asyncio.sleep(0.005)
        await engine.dispose()

    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
    """
)


async def _busy_commits(sessions: SessionMaker) -> int:
    async with read_scope(sessions) as session:
        found = await session.exec(
            select(func.count()).select_from(ApiKey).where(col(ApiKey.name).like("b%"))
        )
        return int(found.one())


async def test_a_writer_gets_a_turn_between_another_processs_transactions(
    sqlite_database_url: str, tmp_path: Path
) -> None:
    url = to_driver_url(sqlite_database_url, asynchronous=True)
    stop = tmp_path / "stop"
    busy = await asyncio.create_subprocess_exec(sys.executable, "-c", _BUSY_WRITER, url, str(stop))
    engine = make_async_engine(url)
    sessions = make_sessionmaker(engine)
    try:

        async def writing() -> bool | None:
            return await _busy_commits(sessions) >= 5 or None

        await wait_for(writing, 30, "the other process to write")
        waits = []
        for n in range(6):
            before = await _busy_commits(sessions)
            async with session_scope(sessions) as session:
                session.add(ApiKey(name=f"other{n}", prefix=f"other{n}", key_hash="x"))
            waits.append(await _busy_commits(sessions) - before)
    finally:
        stop.touch()
        await asyncio.wait_for(busy.wait(), 60)
        await engine.dispose()
    assert busy.returncode == 0
    # Left to SQLite's own waits (sleeps of up to 100 ms between tries), this writer saw the
    # other commit dozens of times before it got in; in turns, a few. (The first write also
    # opens the connection.)
    assert max(waits[1:]) <= 5, waits
