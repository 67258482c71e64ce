from __future__ import annotations

from dialer.config import to_driver_url
from dialer.db import make_async_engine, make_sessionmaker, session_scope
from dialer.optouts.service import block_number, is_blocked, list_blocked, unblock_number


async def test_block_check_list_unblock(database_url: str) -> None:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    sessions = make_sessionmaker(engine)
    try:
        async with session_scope(sessions) as session:
            first = await block_number(session, "+819012345670", source="api", reason="asked")
            again = await block_number(session, "+819012345670", source="keypress")
            await block_number(session, "+819012345671", source="api", scope="campaign:7")
        assert again.id == first.id and again.source == "api"
        async with session_scope(sessions) as session:
            assert await is_blocked(session, "+819012345670")
            assert not await is_blocked(session, "+819012345671")
            assert await is_blocked(session, "+819012345671", ("global", "campaign:7"))
            assert [e.number for e in await list_blocked(session)] == ["+819012345670"]
            assert await unblock_number(session, "+819012345670")
            assert not await unblock_number(session, "+819012345670")
        async with session_scope(sessions) as session:
            assert not await is_blocked(session, "+819012345670")
    finally:
        await engine.dispose()
