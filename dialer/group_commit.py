"""The dial path's writes, one transaction after another in the order they come, or in groups.

A write that would have been a transaction of its own is handed in as a function of a session,
and a process makes them one at a time, first come first served. Left to themselves, a worker's
many dials each opened a transaction at once, and a dial's last write (the provider's answer)
waited behind newer claims: sent-to-final p99 was 3.0 s on SQLite and 4.6 s on PostgreSQL,
against 0.76 s and 0.85 s in order, at the same throughput (docs/performance.md).

With `max_group` above 1, the writes handed in while one transaction is being made go together
in the next, each in a savepoint of its own: one that fails is rolled back alone and its caller
gets its exception, exactly as from a transaction of its own. That saves commits (PostgreSQL:
11.3 per final down to 2.9 with 16) but holds the write lock longer, and measured here it made
nothing faster: the cost is in the statements, not the commits.

Writes of one kind that wait together (the clearances of many dials, their answers) may be
handed in as items of a `Merge` instead: the writer takes every waiting item of that kind at
once and makes them in one transaction with one function that does them all, so a handful of
statements serves them all. If that transaction fails, each item is made again alone.

A write must touch only the database and must not hand in another (it would wait for itself).
A statement error (a deadlock, a lost unique race) may be the group's doing, so that write is
made again alone; and if the group's transaction fails as a whole, every write in it is made
again alone, so no caller ever learns of an outcome that was not committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.db import SessionMaker, session_scope
from dialer.outbox import forget_ended_since, noted_ended

__all__ = ["GroupCommit", "Merge", "Write"]

log = logging.getLogger(__name__)

T = TypeVar("T")
V = TypeVar("V")
Write = Callable[[AsyncSession], Awaitable[T]]
# At most this many items of a Merge go in one transaction.
_MOST_MERGED = 500


@dataclass(frozen=True, eq=False)
class Merge(Generic[V, T]):
    """A kind of write whose items can be made together: `write_all` makes every item given
    and returns each one's result, in their order."""

    write_all: Callable[[AsyncSession, list[V]], Awaitable[list[T]]]


@dataclass
class _Item(Generic[T]):
    write: Write[T]
    future: asyncio.Future[T]
    merge: Merge[Any, T] | None = None
    value: Any = None


@dataclass
class _Outcome:
    done: list[tuple[_Item[Any], Any]] = field(default_factory=list)
    failed: list[tuple[_Item[Any], BaseException]] = field(default_factory=list)
    alone: list[_Item[Any]] = field(default_factory=list)


class GroupCommit:
    def __init__(self, sessions: SessionMaker, max_group: int) -> None:
        self._sessions = sessions
        self._max_group = max_group
        self._pending: list[_Item[Any]] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # transactions made, for tests and benchmarks
        self.writes = 0

    async def run(self, write: Write[T]) -> T:
        """`write` made and committed, in a group or alone; its result or its exception."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(write, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        # A caller cancelled before its group starts writes nothing; once it has started, the
        # write is committed with the others, as a transaction cut short at its commit may be.
        return await future

    async def merged(self, merge: Merge[V, T], value: V) -> T:
        """`value` written by `merge`, with whichever other items of it wait at its turn."""

        async def alone(session: AsyncSession) -> T:
            return (await merge.write_all(session, [value]))[0]

        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(alone, future, merge, value))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        try:
            while self._pending:
                if self._pending[0].merge is not None:
                    await self._write_merged(self._take_merged(self._pending[0].merge))
                    continue
                group = self._pending[: self._max_group]
                del self._pending[: len(group)]
                await self._write_group([i for i in group if not i.future.cancelled()])
        finally:
            for item in self._pending:  # only if this task itself was cancelled
                item.future.cancel()
            self._pending.clear()

    def _take_merged(self, merge: Merge[Any, Any]) -> list[_Item[Any]]:
        taken = [i for i in self._pending if i.merge is merge][:_MOST_MERGED]
        chosen = {id(i) for i in taken}
        self._pending = [i for i in self._pending if id(i) not in chosen]
        return [i for i in taken if not i.future.cancelled()]

    async def _write_merged(self, items: list[_Item[Any]]) -> None:
        if len(items) <= 1:
            await self._write_group(items)
            return
        merge = items[0].merge
        assert merge is not None
        try:
            async with session_scope(self._sessions) as session:
                results = await merge.write_all(session, [i.value for i in items])
                if len(results) != len(items):
                    raise RuntimeError(f"{len(results)} results for {len(items)} merged writes")
        except Exception:
            log.warning("%d merged writes failed together: each alone", len(items), exc_info=True)
            for item in items:
                await self._alone(item)
            return
        except BaseException:
            for item in items:
                item.future.cancel()
            raise
        self.groups += 1
        self.writes += len(items)
        for item, result in zip(items, results, strict=True):
            _settle(item, result, None)

    async def _alone(self, item: _Item[Any]) -> None:
        """`item` in a transaction of its own."""
        try:
            async with session_scope(self._sessions) as session:
                result = await item.write(session)
        except Exception as exc:
            _settle(item, None, exc)
        else:
            _settle(item, result, None)
        self.groups += 1
        self.writes += 1

    async def _write_group(self, group: list[_Item[Any]]) -> None:
        if not group:
            return
        if len(group) == 1:
            await self._alone(group[0])
            return
        outcome = _Outcome()
        try:
            async with session_scope(self._sessions) as session:
                for item in group:
                    await _in_savepoint(session, item, outcome)
        except Exception:
            log.warning("a group of %d writes failed: each alone", len(group), exc_info=True)
            outcome = _Outcome(alone=list(group))
        except BaseException:
            for item in group:
                item.future.cancel()
            raise
        else:
            self.groups += 1
            self.writes += len(outcome.done) + len(outcome.failed)
        for item, result in outcome.done:
            _settle(item, result, None)
        for item, error in outcome.failed:
            _settle(item, None, error)
        for item in outcome.alone:
            await self._alone(item)


async def _in_savepoint(session: AsyncSession, item: _Item[Any], outcome: _Outcome) -> None:
    ended = noted_ended(session.sync_session)
    try:
        async with session.begin_nested():
            result = await item.write(session)
    except DBAPIError:
        forget_ended_since(session.sync_session, ended)
        outcome.alone.append(item)
    except Exception as exc:
        forget_ended_since(session.sync_session, ended)
        outcome.failed.append((item, exc))
    else:
        outcome.done.append((item, result))
    finally:
        # The next write loads its own copies: a later savepoint rolled back would expire
        # objects this write handed back to its caller, who reads them after the commit.
        session.expunge_all()


def _settle(item: _Item[Any], result: Any, error: BaseException | None) -> None:
    if item.future.done():
        return
    if error is not None:
        item.future.set_exception(error)
    else:
        item.future.set_result(result)
