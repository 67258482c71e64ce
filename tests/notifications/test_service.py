"""Notifications made many at a time: each as if made alone, in a few statements for all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from dialer.apikeys import create_api_key, list_api_keys
from dialer.db import SessionMaker, session_scope
from dialer.errors import DialerError, FieldError
from dialer.notifications.schemas import NotificationCreate
from dialer.notifications.service import (
    IdempotencyConflict,
    Wanted,
    create_notifications,
)
from dialer.optouts.service import block_number
from dialer.vocabulary import NotificationStatus

N = NotificationStatus


def _wanted(to: str, key: str | None = None, **fields: Any) -> Wanted:
    body = {"channel": "tts", "to": to, "from": "+81312345678", "text": "Hi", **fields}
    return Wanted(NotificationCreate.model_validate(body), _KEY_ID if key else None, key, "JP")


_KEY_ID = 1  # the first API key made on a fresh database


async def test_each_of_a_batch_is_made_as_if_alone(sessions: SessionMaker) -> None:
    async with session_scope(sessions) as session:
        await block_number(session, "+819011110002", source="test")
        await create_api_key(session, "tests")
        assert [k.id for k in await list_api_keys(session)] == [_KEY_ID]
    batch = [
        _wanted("090-1111-0001"),
        _wanted("090-1111-0002"),  # on the do-not-contact list
        _wanted("12"),  # not a number
        _wanted("090-1111-0003", key="k-1"),
        _wanted("090-1111-0003", key="k-1"),  # the same request again: the same notification
        _wanted("090-1111-0004", key="k-1"),  # the same key, another request
    ]
    async with session_scope(sessions) as session:
        made = await create_notifications(session, batch)
    assert isinstance(made[2], FieldError) and made[2].field == "to"
    assert isinstance(made[5], IdempotencyConflict)
    new = [m for m in made if not isinstance(m, DialerError)]
    assert [replayed for _, replayed in new] == [False, False, False, True]
    first, blocked, keyed, again = (n for n, _ in new)
    assert first.status is N.queued and first.to_number == "+819011110001"
    assert blocked.status is N.suppressed and blocked.finished_at is not None
    assert keyed.status is N.queued and again is keyed
    assert len({n.id for n in (first, blocked, keyed)}) == 3
    # A request made again later still finds it, by its key.
    async with session_scope(sessions) as session:
        [later] = await create_notifications(session, [_wanted("090-1111-0003", key="k-1")])
    assert not isinstance(later, DialerError)
    assert later[0].id == keyed.id and later[1] is True


async def test_a_batch_of_any_size_takes_the_same_few_statements(sessions: SessionMaker) -> None:
    counts = []
    for size in (2, 40):
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)  # noqa: B023 - read before the next size

        async with session_scope(sessions) as session:
            engine = (await session.connection()).sync_engine
            event.listen(engine, "before_cursor_execute", seen)
            try:
                batch = [_wanted(f"090-2222-{size:02d}{i:02d}") for i in range(size)]
                await create_notifications(session, batch)
            finally:
                event.remove(engine, "before_cursor_execute", seen)
        counts.append(len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]))
    # The lists read once and the rows written in one INSERT (on SQLite, SQLAlchemy writes one
    # row at a time when it needs the new ids back in order).
    small, large = counts
    assert small <= 3
    assert large == small or large == small + 38
