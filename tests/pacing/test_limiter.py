"""The shared limiter against a real Redis: slots, holds, cuts and raises."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from arq.connections import ArqRedis

from dialer.pacing.limiter import Limit, Limiter

CALLS = Limit("xoxzo:test:calls", 20.0)
# 20/s less the 1% margin: one slot every 50.5 ms.
INTERVAL = 1 / 19.8


async def _took(limiter: Limiter, limit: Limit, request: str) -> None:
    """A request let into the window, sent, and accepted by the provider."""
    assert await limiter.clear_to_send(limit, request) == 0
    await limiter.answered(limit, request, accepted=True)


async def test_slots_are_spaced_by_the_rate_less_the_margin(redis: ArqRedis) -> None:
    limiter = Limiter(redis, lead_s=0)
    found = [await limiter.reserve([CALLS], max_wait_s=5) for _ in range(10)]
    slots = [r.slot_s for r in found]
    steps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert found[0].wait_s == pytest.approx(0, abs=0.005)
    assert all(step == pytest.approx(INTERVAL, abs=0.001) for step in steps), steps


async def test_a_batch_reserves_the_slots_within_the_wait_in_one_call(redis: ArqRedis) -> None:
    limiter = Limiter(redis, lead_s=0)
    batch = await limiter.reserve([CALLS], max_wait_s=0.5, count=50)
    # The slots beginning within half a second: 0, 50.5, ... 454.5 ms.
    assert batch.slots == 10
    assert batch.step_s == pytest.approx(INTERVAL, abs=0.001)
    after = await limiter.reserve([CALLS], max_wait_s=5)
    assert after.slot_s - batch.slot_s == pytest.approx(10 * INTERVAL, abs=0.002)
    full = await limiter.reserve([CALLS], max_wait_s=0.1, count=5)
    assert not full.granted and full.wait_s > 0.1  # the next free slot is beyond the wait


async def test_concurrent_reservations_from_many_clients_never_share_a_slot(
    redis: ArqRedis,
) -> None:
    limiters = [Limiter(redis, lead_s=0) for _ in range(4)]
    found = await asyncio.gather(
        *(limiters[i % 4].reserve([CALLS], max_wait_s=10) for i in range(100))
    )
    slots = sorted(r.slot_s for r in found)
    assert all(r.granted for r in found)
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps) == pytest.approx(INTERVAL, abs=0.001)
    assert max(gaps) == pytest.approx(INTERVAL, abs=0.001)


async def test_a_campaign_limit_refuses_without_holding_up_the_account(
    redis: ArqRedis,
) -> None:
    limiter = Limiter(redis, lead_s=0)
    campaign = Limit("campaign:1", 2.0)
    assert (await limiter.reserve([CALLS, campaign], max_wait_s=1)).granted
    # The campaign is not free for another 0.51 s: no slot is taken from the account for it.
    refused = await limiter.reserve([CALLS, campaign], max_wait_s=1)
    assert not refused.granted
    assert refused.wait_s == pytest.approx(1 / (2.0 * 0.99), abs=0.01)
    # So the account's next slot is still one interval after the first, for anyone else.
    other = await limiter.reserve([CALLS], max_wait_s=5)
    assert other.granted and other.wait_s == pytest.approx(INTERVAL, abs=0.01)
    await asyncio.sleep(refused.wait_s)
    assert (await limiter.reserve([CALLS, campaign], max_wait_s=1)).granted
    far = await limiter.reserve([CALLS], max_wait_s=0)
    assert not far.granted and far.wait_s > 0


async def test_a_429_holds_every_client_and_cuts_the_rate_to_what_was_accepted(
    redis: ArqRedis,
) -> None:
    limiter = Limiter(redis, lead_s=0)
    fast = Limit("xoxzo:test:calls", 40.0)
    for i in range(12):
        await _took(limiter, fast, f"r{i}")
    for i in range(5):  # sent in the same second, and refused: not what the provider allows
        assert await limiter.clear_to_send(fast, f"x{i}") == 0
        await limiter.answered(fast, f"x{i}", accepted=False)
    rate = await limiter.throttled(fast, retry_after_s=1.0)
    # Far over the 12 the sandbox took in the last second: min(40 / 2, 12).
    assert rate == pytest.approx(12)
    other = Limiter(redis, lead_s=0)
    held = await other.reserve([fast], max_wait_s=5)
    assert held.granted and held.wait_s == pytest.approx(1.0, abs=0.05)
    # The 429s of requests already on their way are the same excess: no second cut.
    assert await limiter.throttled(fast, retry_after_s=1.0) == pytest.approx(12)
    pace = await limiter.pace(fast)
    assert pace.rate == pytest.approx(12) and pace.ceiling == pytest.approx(12)
    assert pace.throttled == 2
    assert pace.last_429_ago_s is not None and pace.last_429_ago_s < 1


async def test_quiet_time_raises_a_cut_rate_up_to_its_ceiling_not_beyond(
    redis: ArqRedis,
) -> None:
    limiter = Limiter(redis, lead_s=0, raise_every_s=0.1)
    limit = Limit("voxology:test:calls", 10.0)
    for i in range(8):
        await _took(limiter, limit, f"r{i}")
    assert await limiter.throttled(limit, retry_after_s=0) == pytest.approx(5.0)
    await asyncio.sleep(0.25)  # two quiet steps of a tenth of 10/s
    assert (await limiter.reserve([limit], max_wait_s=5)).rate == pytest.approx(7.0)
    await asyncio.sleep(0.5)
    # The ceiling learned from 8 accepted requests a second holds, less the margin: 7.92.
    assert (await limiter.reserve([limit], max_wait_s=5)).rate == pytest.approx(7.92)


async def test_a_429_at_about_the_accepted_rate_costs_only_the_wait(redis: ArqRedis) -> None:
    limiter = Limiter(redis, lead_s=0)
    limit = Limit("xoxzo:test:calls", 10.0)
    for i in range(10):
        await _took(limiter, limit, f"r{i}")
    assert await limiter.throttled(limit, retry_after_s=1.0) == pytest.approx(10)
    held = await limiter.reserve([limit], max_wait_s=5)
    assert held.wait_s == pytest.approx(1.0, abs=0.05) and held.rate == pytest.approx(9.9)


async def test_a_long_quiet_probes_above_the_learned_ceiling(redis: ArqRedis) -> None:
    limiter = Limiter(redis, lead_s=0, raise_every_s=0.05, probe_after_s=0.3)
    limit = Limit("voxology:test:calls", 10.0)
    for i in range(4):
        await _took(limiter, limit, f"r{i}")
    await limiter.throttled(limit, retry_after_s=0)
    assert (await limiter.pace(limit)).ceiling == pytest.approx(4)
    await asyncio.sleep(0.4)
    await limiter.reserve([limit], max_wait_s=5)
    assert (await limiter.pace(limit)).ceiling == pytest.approx(4.4)


async def test_the_window_counts_a_request_from_its_send_until_a_second_after_its_answer(
    redis: ArqRedis,
) -> None:
    limiter = Limiter(redis, lead_s=0, in_flight_s=5)
    limit = Limit("xoxzo:test:calls", 2.0)
    assert await limiter.clear_to_send(limit, "a") == 0
    assert await limiter.clear_to_send(limit, "b") == 0
    # Both in flight: the provider may count either at any moment until it answers.
    assert 0 < await limiter.clear_to_send(limit, "c") <= 0.02
    await asyncio.sleep(0.3)
    await limiter.answered(limit, "a", accepted=True)
    # "a" may have been counted as late as its answer: a whole window from now.
    wait = await limiter.clear_to_send(limit, "c")
    assert wait == pytest.approx(1.0, abs=0.05)
    # No slot is handed out before the window has room.
    assert (await limiter.reserve([limit], max_wait_s=5)).wait_s == pytest.approx(1.0, abs=0.05)
    await asyncio.sleep(wait)
    assert await limiter.clear_to_send(limit, "c") == 0


async def test_an_unanswered_request_leaves_the_window_after_the_in_flight_time(
    redis: ArqRedis,
) -> None:
    limiter = Limiter(redis, lead_s=0, in_flight_s=0.2)
    limit = Limit("xoxzo:test:calls", 1.0)
    assert await limiter.clear_to_send(limit, "lost") == 0
    await asyncio.sleep(1.25)
    assert await limiter.clear_to_send(limit, "next") == 0


async def test_the_wait_measured_is_the_slot_and_the_window_together(redis: ArqRedis) -> None:
    """dialer_limiter_wait_seconds: a request that sleeps for its slot, is cleared to leave,
    then takes its place in the window is measured once, for both waits."""
    import time

    from dialer.metrics import LIMITER_WAIT
    from dialer.pacing.service import Ticket, limit_labels

    limit = Limit("test:wait", 5.0)
    series = LIMITER_WAIT.labels(*limit_labels(limit))

    def observed() -> tuple[float, float]:
        samples = {s.name: s.value for s in series.collect()[0].samples}
        return samples[f"{series._name}_count"], samples[f"{series._name}_sum"]  # type: ignore[attr-defined]

    count, total = observed()
    ticket = Ticket(at=time.monotonic() + 0.3)
    slept = await ticket.reach_slot()
    await asyncio.sleep(0.1)  # the clearance's write: not a wait for the limiter
    await ticket.enter_window(Limiter(redis, lead_s=0), limit, "r1", slept=slept)
    after_count, after_total = observed()
    assert after_count == count + 1
    assert 0.25 <= after_total - total < 0.4


async def test_pace_says_how_far_ahead_its_slots_are_handed_out(redis: ArqRedis) -> None:
    limiter = Limiter(redis, lead_s=0)
    assert (await limiter.pace(CALLS)).ahead_s == 0
    await limiter.reserve([CALLS], max_wait_s=5, count=20)
    # 20 slots 50.5 ms apart from now: the next is free about a second from now.
    assert (await limiter.pace(CALLS)).ahead_s == pytest.approx(20 * INTERVAL, abs=0.03)


async def test_a_request_cleared_to_leave_goes_when_redis_cannot_be_asked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis restarting between a request's clearance and its place in the window: the
    request is committed, so it goes (a 429 costs no attempt); raised, it would never leave."""
    import time

    from dialer.pacing.service import Ticket
    from dialer.serve import free_ports

    [port] = free_ports(1)  # nothing listens there
    gone = ArqRedis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        started = time.monotonic()
        await Ticket(at=started).enter_window(Limiter(gone, lead_s=0), CALLS, "r1")
        assert time.monotonic() - started < 3
    finally:
        await gone.aclose()
    assert "the window cannot be asked" in caplog.text


async def test_a_request_with_no_room_in_the_window_by_its_time_does_not_go(
    redis: ArqRedis,
) -> None:
    """A dial whose job would end before it could hear the answer gives up its wait for the
    window at that moment (False: not sent), instead of going at last or being cut off."""
    import time

    from dialer.pacing.service import Ticket

    limiter = Limiter(redis, lead_s=0, in_flight_s=5)
    limit = Limit("xoxzo:test:window", 1.0)
    assert await limiter.clear_to_send(limit, "first") == 0  # the window's one place
    started = time.monotonic()
    ticket = Ticket(at=started)
    assert await ticket.enter_window(limiter, limit, "late", until=started + 0.3) is False
    assert 0.25 <= time.monotonic() - started < 1.0
    assert await ticket.enter_window(limiter, limit, "later", until=started - 1) is False
    await limiter.answered(limit, "first", accepted=True)
    free = Limit("xoxzo:test:free", 5.0)
    assert await ticket.enter_window(limiter, free, "now", until=time.monotonic() + 1) is True
