from __future__ import annotations

from dialer.apikeys import authenticate, create_api_key, list_api_keys, revoke_api_key
from dialer.config import to_driver_url
from dialer.db import make_async_engine, make_sessionmaker, session_scope


async def test_keys_authenticate_until_revoked_and_are_stored_only_as_digests(
    database_url: str,
) -> None:
    engine = make_async_engine(to_driver_url(database_url, asynchronous=True))
    sessions = make_sessionmaker(engine)
    try:
        async with session_scope(sessions) as session:
            key = await create_api_key(session, "crm")
        async with session_scope(sessions) as session:
            found = await authenticate(session, key)
            assert found is not None and found.name == "crm"
            assert await authenticate(session, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
            [stored] = await list_api_keys(session)
            assert key not in stored.model_dump_json()
            assert await revoke_api_key(session, stored.prefix) is not None
        async with session_scope(sessions) as session:
            assert await authenticate(session, key) is None
            assert await revoke_api_key(session, "nosuchprefix") is None
    finally:
        await engine.dispose()
