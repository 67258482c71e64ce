"""Room: places taken several at a time, given back one by one, takers served in turn."""

from __future__ import annotations

import asyncio

from dialer.room import Room


async def test_a_taker_waits_until_enough_places_are_given_back() -> None:
    room = Room(10)
    assert await room.take(8) == 8
    waiting = asyncio.ensure_future(room.take(5))
    await asyncio.sleep(0)
    assert not waiting.done()
    for _ in range(2):
        room.give()
        await asyncio.sleep(0)
    assert not waiting.done()  # 4 free, 5 wanted
    room.give()
    assert await waiting == 5 and room.free == 0


async def test_takers_are_served_in_the_order_they_came() -> None:
    room = Room(10)
    await room.take(10)
    large = asyncio.ensure_future(room.take(6))
    await asyncio.sleep(0)
    small = asyncio.ensure_future(room.take(1))
    room.give(3)
    await asyncio.sleep(0)
    assert not small.done()  # behind the large one, though a place is free for it
    room.give(4)
    await asyncio.gather(large, small)
    assert room.free == 0


async def test_more_than_the_room_takes_it_all_and_a_taker_gone_gives_nothing_away() -> None:
    room = Room(4)
    assert await room.take(50) == 4
    gone = asyncio.ensure_future(room.take(3))
    behind = asyncio.ensure_future(room.take(1))
    await asyncio.sleep(0)
    gone.cancel()
    room.give()
    assert await behind == 1  # the cancelled one no longer stands in front
    assert room.free == 0
    room.give(10)
    assert room.free == 4  # never more than the room
