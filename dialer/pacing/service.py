"""Which limits a request is under, and waiting for its slot without holding anyone else up."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from redis.exceptions import RedisError

from dialer.config import Settings
from dialer.metrics import LIMITER_WAIT, PROVIDER_SECONDS, THROTTLED
from dialer.models import Campaign, Notification
from dialer.pacing.limiter import Limit, Limiter
from dialer.providers.base import NotSent, ProviderError, RateLimited
from dialer.scheduling.policies import CampaignPolicy
from dialer.vocabulary import Channel

__all__ = [
    "Kind",
    "Paced",
    "Ticket",
    "account_id",
    "account_limit",
    "campaign_limit",
    "campaign_limits",
    "dial_limits",
    "kind_of",
    "learn",
    "limit_labels",
    "take_slot",
    "take_slots",
]

log = logging.getLogger(__name__)

Kind = Literal["calls", "sms", "status", "provisioning"]
T = TypeVar("T")


def limit_labels(limit: Limit) -> tuple[str, str]:
    """(provider, kind) of an account's limit ("xoxzo:<account>:calls"); ("campaign", "calls")
    for a campaign's own ("campaign:<id>:calls")."""
    parts = limit.name.split(":")
    return parts[0], parts[-1]


def kind_of(channel: Channel, *, on_fallback: bool = False) -> Kind:
    """The kind of request a notification's next attempt makes: a fallback is always an SMS."""
    return "calls" if channel.is_voice and not on_fallback else "sms"


def account_id(settings: Settings, provider: str) -> str:
    # Limits belong to the account, so two deployments on one account share them; the key
    # carries a digest of the credential, never the credential.
    credential = settings.account_credential(provider)
    return hashlib.sha256(f"{provider}:{credential}".encode()).hexdigest()[:12]


def account_limit(settings: Settings, provider: str, kind: Kind) -> Limit:
    rate: float = getattr(settings.limits_for(provider), kind)
    return Limit(f"{provider}:{account_id(settings, provider)}:{kind}", rate)


def campaign_limit(campaign_id: int, rate: float) -> Limit:
    return Limit(f"campaign:{campaign_id}:calls", rate)


class Paced(NotSent):
    """Not sent: the limiter had no slot soon enough. Like a 429 the dialer gave itself, it
    costs no attempt, and the notification waits until a slot may be free."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# How long a request waits for room in the window before it goes anyway.
_MOST_WAIT_S = 10.0


@dataclass(frozen=True)
class Ticket:
    """A reserved slot: send at `at` (this process's monotonic clock), not before."""

    at: float

    async def send(
        self, limiter: Limiter, limit: Limit, request: str, call: Callable[[], Awaitable[T]]
    ) -> T:
        """Make `call` at the slot, once the window has room, and tell the limit how the
        provider answered; a provider's error is raised again after that."""
        await self.arrive(limiter, limit, request)
        started = time.monotonic()
        try:
            result = await call()
        except ProviderError as exc:
            PROVIDER_SECONDS.labels(*limit_labels(limit)).observe(time.monotonic() - started)
            await learn(limiter, limit, request, exc)
            raise
        PROVIDER_SECONDS.labels(*limit_labels(limit)).observe(time.monotonic() - started)
        await learn(limiter, limit, request, None)
        return result

    async def arrive(self, limiter: Limiter, limit: Limit, request: str) -> None:
        """Wait for the slot, then until the provider's window has room."""
        slept = await self.reach_slot()
        await self.enter_window(limiter, limit, request, slept=slept)

    async def reach_slot(self) -> float:
        """Sleep until the slot; the seconds slept."""
        delay = self.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return max(delay, 0.0)

    async def enter_window(
        self,
        limiter: Limiter,
        limit: Limit,
        request: str,
        *,
        slept: float = 0.0,
        until: float | None = None,
    ) -> bool:
        """Wait until the provider's window has room, and take a place in it. False if there
        is none by `until` (a time.monotonic()): the request must not go then. The time waited
        is measured with the `slept` for the slot before it."""
        asked = time.monotonic()
        try:
            return await self._enter_window(limiter, limit, request, until)
        finally:
            waited = slept + time.monotonic() - asked
            LIMITER_WAIT.labels(*limit_labels(limit)).observe(waited)

    async def _enter_window(
        self, limiter: Limiter, limit: Limit, request: str, until: float | None
    ) -> bool:
        most = time.monotonic() + _MOST_WAIT_S
        deadline = most if until is None else min(most, until)
        while time.monotonic() < deadline:
            try:
                wait = await limiter.clear_to_send(limit, request)
            except RedisError as exc:
                # Committed, as below: it goes without a place. Raised, it would leave a
                # request cleared to leave that never left, closed `unknown` and never rung.
                log.warning("%s: the window cannot be asked (%s); sending", limit.name, exc)
                return True
            if wait <= 0:
                return True
            await asyncio.sleep(min(wait, max(deadline - time.monotonic(), 0.0)))
        if deadline < most:
            return False  # its time came first: it must not go
        # The attempt is committed: it goes. At worst the provider answers 429, which costs
        # no attempt; a request held back here for good would look lost.
        log.warning("%s: no room in the window after %.0f s; sending", limit.name, _MOST_WAIT_S)
        return True


async def take_slot(
    limiter: Limiter, limits: list[Limit], max_wait_s: float, *, must: bool = False
) -> Ticket | float:
    """A ticket for the next slot under `limits` within `max_wait_s`, or how long until one
    might be had. While a campaign's own limit is the one in the way and frees up within the
    wait, this waits for it and asks again; nothing is held meanwhile. `must`: the request is
    committed, so sleep until a slot is near and keep asking until there is one."""
    found = await take_slots(limiter, limits, max_wait_s, 1, must=must)
    return found if isinstance(found, float) else found[0]


async def take_slots(
    limiter: Limiter, limits: list[Limit], max_wait_s: float, count: int, *, must: bool = False
) -> list[Ticket] | float:
    """As take_slot, for up to `count` requests under the same limits at once, in one call to
    the limiter: tickets for the slots that begin within the wait (at least one), in order."""
    started = time.monotonic()
    while True:
        left = max_wait_s - (time.monotonic() - started)
        found = await limiter.reserve(limits, max_wait_s=max(left, 0.0), count=count)
        if found.granted:
            # Counted from the answer, not the question: a round trip late, never early.
            first = time.monotonic() + found.wait_s
            return [Ticket(at=first + i * found.step_s) for i in range(found.slots)]
        if found.wait_s <= left:
            await asyncio.sleep(found.wait_s)
        elif not must:
            return found.wait_s
        else:
            await asyncio.sleep(found.wait_s - max_wait_s / 2)
            started = time.monotonic()


async def learn(limiter: Limiter, limit: Limit, request: str, error: ProviderError | None) -> None:
    """Tell an account's limit how the provider answered: taken, or throttled."""
    await limiter.answered(limit, request, accepted=error is None)
    if isinstance(error, RateLimited):
        THROTTLED.labels(limit_labels(limit)[0]).inc()
        await limiter.throttled(limit, error.retry_after)


def dial_limits(
    settings: Settings, notification: Notification, campaign: Campaign | None
) -> list[Limit]:
    """The account's limit for this notification's next request, then its campaign's if it has
    one."""
    kind = kind_of(notification.channel, on_fallback=notification.on_fallback)
    limits = [account_limit(settings, notification.provider, kind)]
    if campaign is not None:
        limits += campaign_limits(campaign)
    return limits


def campaign_limits(campaign: Campaign) -> list[Limit]:
    """The campaign's own limit, if its policy sets one."""
    rate = CampaignPolicy.model_validate(campaign.policy).max_rate
    if campaign.id is None or rate is None:
        return []
    return [campaign_limit(campaign.id, rate)]
