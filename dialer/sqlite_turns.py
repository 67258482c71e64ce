"""Turns at one SQLite file's write lock between processes (a worker and the web process).

SQLite's own wait for its lock is a sleep of up to 100 ms between tries, so a process that
writes one transaction after another (a worker writing its dials in groups) keeps the lock
almost all the time, and the web process, which records the providers' callbacks, seldom finds
it free: calls end, but their ends wait seconds to be written. So writers take turns at a lock
of their own first, beside the database file, that the kernel keeps:

- `<db>-turn`: held for a whole write transaction (flock, so every connection counts, even two
  of one process);
- `<db>-waiting`: held shared by each writer while it waits for the first one. A writer that
  finishes its transaction and sees a waiter there steps aside for a moment before its next,
  so the lock goes round.

A writer that does not take part (a bulk import on its own thread, the sqlite3 shell) still
gets SQLite's own wait and busy timeout, as before.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path

__all__ = ["ProcessTurns"]

_POLL_S = 0.0005
# How long a writer that has just finished lets a waiting one have the lock: long enough for it
# to see the lock free at its next poll, short against a transaction.
_STEP_ASIDE_S = 0.003


class ProcessTurns:
    def __init__(self, database: str, timeout_s: float) -> None:
        self._paths = (Path(f"{database}-turn"), Path(f"{database}-waiting"))
        self._timeout_s = timeout_s
        self._fds: tuple[int, int] | None = None
        self._aside_until = 0.0

    def _open(self) -> tuple[int, int]:
        if self._fds is None:
            fds = tuple(os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in self._paths)
            self._fds = (fds[0], fds[1])
            weakref.finalize(self, _close, self._fds)
        return self._fds

    async def acquire(self) -> None:
        turn, waiting = self._open()
        deadline = time.monotonic() + self._timeout_s
        aside = min(self._aside_until, deadline)
        await _until(lambda: time.monotonic() > aside or not _others_wait(waiting), deadline)
        if _try(turn, fcntl.LOCK_EX):
            return
        # Shared: held alone only for a glance, by a writer looking for waiters.
        await _until(lambda: _try(waiting, fcntl.LOCK_SH), deadline)
        try:
            await _until(lambda: _try(turn, fcntl.LOCK_EX), deadline)
        finally:
            fcntl.flock(waiting, fcntl.LOCK_UN)

    def release(self) -> None:
        if self._fds is None:
            return
        turn, waiting = self._fds
        fcntl.flock(turn, fcntl.LOCK_UN)
        if _others_wait(waiting):
            self._aside_until = time.monotonic() + _STEP_ASIDE_S


async def _until(ready: Callable[[], bool], deadline: float) -> None:
    # Polled: a lock held by another process has no way to wake this one's event loop.
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError("no turn at the database's write lock")
        await asyncio.sleep(_POLL_S)


def _try(fd: int, how: int) -> bool:
    try:
        fcntl.flock(fd, how | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _others_wait(waiting: int) -> bool:
    """Whether another connection holds the waiting lock (we hold none of it here)."""
    if _try(waiting, fcntl.LOCK_EX):
        fcntl.flock(waiting, fcntl.LOCK_UN)
        return False
    return True


def _close(fds: tuple[int, int]) -> None:
    for fd in fds:
        os.close(fd)
