"""Group commit: many coroutines' writes in one transaction, each as if it were alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.db import SessionMaker, read_scope
from dialer.group_commit import GroupCommit, Merge, Write
from dialer.models import ApiKey


def add_key(name: str, *, fail: bool = False) -> Write[ApiKey]:
    async def write(session: AsyncSession) -> ApiKey:
        key = ApiKey(name=name, prefix=name, key_hash="x")
        session.add(key)
        await session.flush()
        if fail:
            raise ValueError(f"{name} refused")
        return key

    return write


async def names(sessions: SessionMaker) -> set[str]:
    async with read_scope(sessions) as session:
        return set((await session.exec(select(ApiKey.name))).all())


async def test_writes_handed_in_together_share_a_transaction(sessions: SessionMaker) -> None:
    writes = GroupCommit(sessions, max_group=64)
    keys = await asyncio.gather(*(writes.run(add_key(f"k{i}")) for i in range(40)))
    assert [k.name for k in keys] == [f"k{i}" for i in range(40)]
    assert all(k.id is not None for k in keys)
    assert await names(sessions) == {f"k{i}" for i in range(40)}
    assert writes.writes == 40
    assert writes.groups == 1  # all were handed in before the writer's first turn
    await asyncio.gather(*(writes.run(add_key(f"more{i}")) for i in range(100)))
    assert writes.groups == 3  # at most max_group at once


async def test_a_failing_write_is_undone_alone_and_its_caller_gets_the_error(
    sessions: SessionMaker,
) -> None:
    writes = GroupCommit(sessions, max_group=64)
    results = await asyncio.gather(
        *(writes.run(add_key(f"k{i}", fail=i % 3 == 1)) for i in range(9)),
        return_exceptions=True,
    )
    failed = [i for i, r in enumerate(results) if isinstance(r, ValueError)]
    assert failed == [1, 4, 7]
    assert str(results[4]) == "k4 refused"
    assert await names(sessions) == {f"k{i}" for i in range(9) if i % 3 != 1}


async def test_a_lost_unique_race_is_tried_again_alone_and_reported(
    sessions: SessionMaker,
) -> None:
    writes = GroupCommit(sessions, max_group=64)
    await writes.run(add_key("taken"))
    results = await asyncio.gather(
        writes.run(add_key("a")),
        writes.run(add_key("taken")),
        writes.run(add_key("b")),
        writes.run(add_key("c")),
        return_exceptions=True,
    )
    assert isinstance(results[1], IntegrityError)
    assert [getattr(r, "name", None) for r in results] == ["a", None, "b", "c"]
    assert await names(sessions) == {"taken", "a", "b", "c"}


async def test_what_a_write_hands_back_stays_readable_after_a_later_one_is_undone(
    sessions: SessionMaker,
) -> None:
    writes = GroupCommit(sessions, max_group=64)
    [made] = await asyncio.gather(writes.run(add_key("shared")))

    def rename(to: str, *, fail: bool) -> Write[ApiKey]:
        async def write(session: AsyncSession) -> ApiKey:
            key = await session.get(ApiKey, made.id)
            assert key is not None
            key.name = to
            await session.flush()
            if fail:
                raise ValueError("undone")
            return key

        return write

    _, second, third = await asyncio.gather(
        writes.run(add_key("other")),
        writes.run(rename("renamed", fail=False)),
        writes.run(rename("never", fail=True)),
        return_exceptions=True,
    )
    assert isinstance(third, ValueError)
    assert not isinstance(second, BaseException)
    assert second.name == "renamed"  # read after the commit, with no session behind it
    assert await names(sessions) == {"renamed", "other"}


async def test_a_caller_cancelled_before_its_group_writes_nothing(sessions: SessionMaker) -> None:
    writes = GroupCommit(sessions, max_group=64)
    first = asyncio.create_task(writes.run(add_key("first")))
    await asyncio.sleep(0)  # the first is being written; the next waits for the next group
    waiting = asyncio.create_task(writes.run(add_key("cancelled")))
    kept = asyncio.create_task(writes.run(add_key("kept")))
    await asyncio.sleep(0)
    waiting.cancel()
    await first
    await kept
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await names(sessions) == {"first", "kept"}


async def _add_keys(session: AsyncSession, names: list[str]) -> list[int]:
    if any(name.startswith("bad") for name in names):
        raise ValueError(f"refused: {[n for n in names if n.startswith('bad')]}")
    keys = [ApiKey(name=name, prefix=name, key_hash="x") for name in names]
    session.add_all(keys)
    await session.flush()
    return [key.id or 0 for key in keys]


ADD_KEYS = Merge(_add_keys)


async def test_items_of_a_merge_that_wait_together_are_written_by_one_call(
    sessions: SessionMaker,
) -> None:
    writes = GroupCommit(sessions, max_group=1)
    first = writes.run(add_key("before"))  # the writer's first turn: the items wait behind it
    ids = await asyncio.gather(first, *(writes.merged(ADD_KEYS, f"m{i}") for i in range(30)))
    assert writes.groups == 2 and writes.writes == 31
    assert len(set(ids[1:])) == 30
    async with read_scope(sessions) as session:
        found = dict((await session.exec(select(ApiKey.id, ApiKey.name))).all())
    assert [found[i] for i in ids[1:]] == [f"m{i}" for i in range(30)]  # each its own result


async def test_a_merge_that_fails_is_made_again_item_by_item(sessions: SessionMaker) -> None:
    writes = GroupCommit(sessions, max_group=1)
    values = ["a", "bad1", "b", "c", "bad2"]
    results = await asyncio.gather(
        *(writes.merged(ADD_KEYS, v) for v in values), return_exceptions=True
    )
    errors = [str(r) for r in results if isinstance(r, ValueError)]
    assert errors == ["refused: ['bad1']", "refused: ['bad2']"]
    assert await names(sessions) == {"a", "b", "c"}


async def test_an_item_whose_caller_went_away_before_its_turn_is_not_written(
    sessions: SessionMaker,
) -> None:
    writes = GroupCommit(sessions, max_group=1)
    first = asyncio.ensure_future(writes.run(add_key("before")))
    gone = asyncio.ensure_future(writes.merged(ADD_KEYS, "gone"))
    kept = asyncio.ensure_future(writes.merged(ADD_KEYS, "kept"))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(first, kept)
    assert await names(sessions) == {"before", "kept"}
