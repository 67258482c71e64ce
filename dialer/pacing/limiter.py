"""One rate limiter in Redis shared by every worker: GCRA, atomic in Lua, on Redis's clock.

Each limit is a hash in Redis. A request reserves the next free slot of every limit it is under
(a provider account's calls, say, and its campaign's), all at once, and sleeps until that slot.
A 429 holds the limit for the wait the provider gave and cuts its rate; quiet seconds raise the
rate again, step by step, up to a ceiling learned from what the provider accepted.
The state may vanish with a Redis flush: the limits then start again from their configured rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

__all__ = ["Limit", "Limiter", "Pace", "Reservation"]

# A provider's "per second", and a little more: its clock and Redis's may tick apart.
_WINDOW_MS = 1002.0

# Shared by the scripts: the rate now, after any raise the quiet time since the last change
# has earned, and its ceiling. Rates are per second, times milliseconds on Redis's clock.
_CURRENT_RATE = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

local function current(key, configured, now, raise_every, probe_after)
  local s = redis.call('HMGET', key, 'rate', 'ceiling', 'changed', 'cut')
  local ceiling = math.min(tonumber(s[2]) or configured, configured)
  local cut = tonumber(s[4]) or 0
  if ceiling < configured and now - cut >= probe_after then
    -- Long quiet at a learned ceiling: the provider may allow more now; probe a little higher.
    ceiling = math.min(configured, ceiling * 1.1)
    cut = now
    redis.call('HSET', key, 'ceiling', tostring(ceiling), 'cut', tostring(cut))
  end
  local rate = math.min(tonumber(s[1]) or configured, ceiling)
  local changed = tonumber(s[3]) or 0
  if rate < ceiling and now - changed >= raise_every then
    local steps = math.floor((now - changed) / raise_every)
    rate = math.min(ceiling, rate + steps * math.max(configured * 0.1, 0.1))
    changed = changed + steps * raise_every
    redis.call('HSET', key, 'rate', tostring(rate), 'changed', tostring(changed))
  end
  return rate, ceiling
end
"""

# KEYS: one hash per limit. ARGV: max_wait_ms, lead_ms, raise_every_ms, probe_after_ms, margin,
# count, then each limit's configured rate. Reserves up to `count` slots one step apart (the
# longest of the limits' intervals), as many as begin within max_wait. Returns {slots granted,
# wait_ms until the first, the first limit's rate, the first slot, step_ms}.
_RESERVE = (
    _CURRENT_RATE
    + """
local now = now_ms()
local max_wait, lead = tonumber(ARGV[1]), tonumber(ARGV[2])
local raise_every, probe_after, margin = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local count = tonumber(ARGV[6])
local slot = now + lead
local intervals = {}
local step = 0
local first_rate = 0
local granted = 1
for i, key in ipairs(KEYS) do
  local configured = tonumber(ARGV[6 + i])
  local rate, ceiling = current(key, configured, now, raise_every, probe_after)
  -- A little below the ceiling, so slots seldom wait on the window (see _SEND).
  rate = math.min(rate, ceiling * (1 - margin))
  if i == 1 then first_rate = rate end
  intervals[i] = 1000 / rate
  step = math.max(step, intervals[i])
  local s = redis.call('HMGET', key, 'tat', 'hold')
  local free = math.max(tonumber(s[1]) or 0, tonumber(s[2]) or 0)
  if i > 1 and free > slot then
    -- A later limit is not free at the first limit's slot. Reserving its later slot would
    -- leave the first limit (the provider account, shared by everyone) idle until then.
    granted = 0
  end
  slot = math.max(slot, free)
end
local wait = slot - now
if granted == 0 or wait > max_wait then
  return {0, tostring(wait), tostring(first_rate), tostring(slot), tostring(step)}
end
local slots = math.min(count, math.floor((max_wait - wait) / step) + 1)
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tat', tostring(slot + (slots - 1) * step + intervals[i]))
  redis.call('PEXPIRE', key, 86400000)
end
return {slots, tostring(wait), tostring(first_rate), tostring(slot), tostring(step)}
"""
)

# KEYS[1]: the limit's hash, KEYS[2]: its log of requests sent, KEYS[3]: its log of refused
# ones. ARGV: configured rate, retry_after_ms, raise_every_ms, probe_after_ms. Returns
# {rate, ceiling} after the cut.
_THROTTLED = (
    _CURRENT_RATE
    + """
local now = now_ms()
local configured, retry_after = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate, ceiling = current(KEYS[1], configured, now, tonumber(ARGV[3]), tonumber(ARGV[4]))
local hold = math.max(tonumber(redis.call('HGET', KEYS[1], 'hold')) or 0, now + retry_after)
redis.call('HSET', KEYS[1], 'hold', tostring(hold), 'last_429', tostring(now))
redis.call('HINCRBY', KEYS[1], 'throttled', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
local cut = tonumber(redis.call('HGET', KEYS[1], 'cut')) or 0
if now - cut < math.max(1000, retry_after) then
  -- The requests already on their way when the first 429 came: the same excess, one cut.
  return {tostring(rate), tostring(ceiling)}
end
local floor = math.max(configured * 0.02, 0.05)
-- Answered in the last second (a sent request's score is its answer's time once answered,
-- later while in flight), less those refused.
local answered = redis.call('ZCOUNT', KEYS[2], now - 1000, now)
local accepted = answered - redis.call('ZCOUNT', KEYS[3], now - 1000, '+inf')
if accepted > 0 then
  -- What the provider took in the second before it refused is what it allows.
  ceiling = math.min(ceiling, accepted)
else
  ceiling = ceiling * 0.5
end
ceiling = math.max(ceiling, floor)
if rate > ceiling * 1.1 then
  -- Well over what the provider allows: halve, then climb back to the ceiling a step a second.
  rate = math.max(floor, math.min(rate * 0.5, ceiling))
else
  -- About at it (a late request crowded the provider's window): the ceiling alone.
  rate = math.min(rate, ceiling)
end
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'ceiling', tostring(ceiling),
  'changed', tostring(now), 'cut', tostring(now))
return {tostring(rate), tostring(ceiling)}
"""
)

# KEYS[1]: the limit's log of requests sent, KEYS[2]: its log of refused ones. ARGV: request
# id, 1 if the provider took it. The request is in the provider's count from some moment before
# now: it stays in the window for a whole window from now. What the provider accepted in a
# second is read from the log of requests sent, less the refused (rare, so logged apart:
# an accepted answer costs three commands).
_ANSWERED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
if ARGV[2] ~= '1' then
  redis.call('ZADD', KEYS[2], now, tostring(now) .. ':' .. ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 2000)
  redis.call('PEXPIRE', KEYS[2], 5000)
end
return 1
"""

# KEYS[1]: the limit's hash, KEYS[2]: its log of requests sent. ARGV: configured rate, window_ms,
# request id, in_flight_ms. Lets a request go if fewer than the limit's whole number of requests
# are in the window, and logs it as in flight (in the window until answered, or for
# in_flight_ms); else returns how long until one leaves, and keeps new slots back until then.
_SEND = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local configured, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local in_flight = tonumber(ARGV[4])
local ceiling = math.min(tonumber(redis.call('HGET', KEYS[1], 'ceiling')) or configured, configured)
local most = math.max(math.floor(ceiling), 1)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local sent = redis.call('ZCARD', KEYS[2])
if sent < most then
  redis.call('ZADD', KEYS[2], now + in_flight, ARGV[3])
  redis.call('PEXPIRE', KEYS[2], math.ceil(in_flight + window) + 1000)
  return '0'
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[2], sent - most, sent - most, 'WITHSCORES')[2])
if oldest > now then
  -- Still in flight: it leaves a window after its answer, whenever that comes.
  return tostring(math.min(oldest - now, 20))
end
local free = oldest + window
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat')) or 0
if free > tat then
  redis.call('HSET', KEYS[1], 'tat', tostring(free))
end
return tostring(free - now)
"""

# KEYS[1]: the limit's hash. Returns Redis's clock and the fields `pace` shows.
_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'rate', 'ceiling', 'throttled', 'last_429', 'hold', 'tat')
return {tostring(now), s[1], s[2], s[3], s[4], s[5], s[6]}
"""


@dataclass(frozen=True)
class Limit:
    """A rate that requests of one kind must keep to: per provider account, or per campaign."""

    name: str  # e.g. "xoxzo:3f2a…:calls" or "campaign:12"
    rate: float  # configured requests per second

    @property
    def key(self) -> str:
        return f"dialer:pace:{self.name}"

    @property
    def refused_key(self) -> str:
        return f"dialer:pace:{self.name}:refused"

    @property
    def sent_key(self) -> str:
        return f"dialer:pace:{self.name}:sent"


@dataclass(frozen=True)
class Reservation:
    slots: int  # slots reserved, one `step_s` apart from the first: 0 if none
    wait_s: float  # until the first slot; when none was granted, until the first free one
    rate: float  # the first limit's rate now
    slot_s: float  # the first slot, on Redis's clock (Unix seconds)
    step_s: float = 0.0

    @property
    def granted(self) -> bool:
        return self.slots > 0


@dataclass(frozen=True)
class Pace:
    """What a limit is doing now, for people: its rate, its ceiling and recent throttling."""

    name: str
    configured: float
    rate: float
    ceiling: float
    throttled: int
    last_429_ago_s: float | None
    held_for_s: float
    # How far ahead of now its slots are handed out already.
    ahead_s: float = 0.0


class Limiter:
    """Tuning: `margin` keeps the pace this much under a configured rate; each quiet
    `raise_every_s` raises a cut rate by a tenth of the configured one; after `probe_after_s`
    without a cut, a learned ceiling rises by a tenth, to find out if the provider allows more."""

    def __init__(
        self,
        redis: Redis,
        *,
        margin: float = 0.01,
        lead_s: float = 0.05,
        in_flight_s: float = 10.0,
        raise_every_s: float = 1.0,
        probe_after_s: float = 300.0,
    ) -> None:
        self._redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._throttled = redis.register_script(_THROTTLED)
        self._answered = redis.register_script(_ANSWERED)
        self._read = redis.register_script(_READ)
        self._send = redis.register_script(_SEND)
        self.margin = margin
        self.in_flight_s = in_flight_s
        self.lead_s = lead_s
        self.raise_every_s = raise_every_s
        self.probe_after_s = probe_after_s

    async def load(self) -> None:
        """Load every script into Redis now rather than on its first use."""
        for script in (self._reserve, self._throttled, self._answered, self._read, self._send):
            await self._redis.script_load(script.script)

    async def reserve(self, limits: list[Limit], max_wait_s: float, count: int = 1) -> Reservation:
        """Reserve the first limit's next slot if it comes within `max_wait_s` and every other
        limit is free by then, and up to `count - 1` more after it, each a step later, as many
        as begin within the wait; otherwise nothing, and how long until a slot might be had."""
        if not limits:
            return Reservation(slots=count, wait_s=0.0, rate=0.0, slot_s=0.0)
        args: list[Any] = [
            max_wait_s * 1000,
            self.lead_s * 1000,
            self.raise_every_s * 1000,
            self.probe_after_s * 1000,
            self.margin,
            count,
            *(limit.rate for limit in limits),
        ]
        keys = [limit.key for limit in limits]
        slots, wait_ms, rate, slot_ms, step_ms = await self._reserve(keys=keys, args=args)
        return Reservation(
            slots=int(slots),
            wait_s=max(float(wait_ms), 0.0) / 1000,
            rate=float(rate),
            slot_s=float(slot_ms) / 1000,
            step_s=float(step_ms) / 1000,
        )

    async def clear_to_send(self, limit: Limit, request_id: str) -> float:
        """0 if the request may go now (it is logged as in flight), else seconds to wait first.
        The provider counts a request at some moment between this and its answer, so each
        request keeps its place in the window until a whole window after its answer: no
        lateness on our side, in the network or at the provider can crowd its second."""
        keys = [limit.key, limit.sent_key]
        args: list[Any] = [limit.rate, _WINDOW_MS, request_id, self.in_flight_s * 1000]
        wait_ms = await self._send(keys=keys, args=args)
        return max(float(wait_ms), 0.0) / 1000

    async def answered(self, limit: Limit, request_id: str, *, accepted: bool) -> None:
        """The provider answered a request sent under `limit`; `accepted`: it took it, the
        measure of what it allows."""
        keys = [limit.sent_key, limit.refused_key]
        await self._answered(keys=keys, args=[request_id, int(accepted)])

    async def throttled(self, limit: Limit, retry_after_s: float) -> float:
        """The provider answered 429: hold `limit` for its wait and cut its rate. The new rate."""
        args = [
            limit.rate,
            retry_after_s * 1000,
            self.raise_every_s * 1000,
            self.probe_after_s * 1000,
        ]
        keys = [limit.key, limit.sent_key, limit.refused_key]
        rate, _ceiling = await self._throttled(keys=keys, args=args)
        return float(rate)

    async def pace(self, limit: Limit) -> Pace:
        """The limit's state, without changing it (no raise is applied here)."""
        now, rate, ceiling, throttled, last_429, hold, tat = await self._read(keys=[limit.key])
        now = float(now)
        return Pace(
            name=limit.name,
            configured=limit.rate,
            rate=min(float(rate), limit.rate) if rate else limit.rate,
            ceiling=min(float(ceiling), limit.rate) if ceiling else limit.rate,
            throttled=int(throttled or 0),
            last_429_ago_s=(now - float(last_429)) / 1000 if last_429 else None,
            held_for_s=max(float(hold) - now, 0.0) / 1000 if hold else 0.0,
            ahead_s=max(max(float(tat or 0), float(hold or 0)) - now, 0.0) / 1000,
        )
