"""Room for a number of things at once, taken several at a time and given back one by one:
a semaphore whose takers may ask for many places. Takers are served in the order they came, so
a large one is not passed for ever by small ones."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Room"]


class Room:
    def __init__(self, places: int) -> None:
        self.places = places
        self._free = places
        self._waiting: deque[tuple[int, asyncio.Future[None]]] = deque()

    @property
    def free(self) -> int:
        return self._free

    async def take(self, wanted: int) -> int:
        """Wait for `wanted` places (at most all of them) and take them; how many were taken."""
        wanted = min(wanted, self.places)
        if not self._waiting and self._free >= wanted:
            self._free -= wanted
            return wanted
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((wanted, turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give(wanted)  # served just as the taker went away
            else:
                self._waiting.remove((wanted, turn))
                self._serve()  # a large taker gone may let smaller ones behind it in
            raise
        return wanted

    def give(self, places: int = 1) -> None:
        self._free = min(self._free + places, self.places)
        self._serve()

    def _serve(self) -> None:
        while self._waiting and self._free >= self._waiting[0][0]:
            wanted, turn = self._waiting.popleft()
            if turn.done():
                continue
            self._free -= wanted
            turn.set_result(None)
