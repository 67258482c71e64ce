"""Minimum credits. A campaign starts, and keeps running, only while its provider account's
balance covers the provider's minimum plus the campaign's estimated remaining cost. A provider
refusing a request for want of credit pauses the campaigns of that account and kind at once; a
watcher reads the balance periodically, pauses the campaigns it no longer covers and resumes
the ones it paused when the balance is back.

Each provider's figures are in its own unit (Xoxzo credits, Voxology US dollars). The minimum
is the provider's own figure when it has named one (Xoxzo's 403 does), else the configured one
(`DIALER_CREDIT`, over DEFAULT_CREDIT). A cost is estimated from what the campaign's attempts
have cost so far, else the configured cost of an attempt on its channel, one attempt per contact
still to dial.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.bounds import STORED
from dialer.campaigns.schemas import EstimatePublic
from dialer.campaigns.service import (
    INSUFFICIENT_CREDIT,
    CampaignConflict,
    pause_if_live,
    paused_for_credit,
    start_campaign,
)
from dialer.db import read_scope, session_scope
from dialer.errors import Conflict
from dialer.models import Attempt, Campaign, CampaignTally
from dialer.pacing.service import Kind, Ticket, account_id, account_limit, kind_of, take_slot
from dialer.providers.base import InsufficientCredit, ProviderError
from dialer.runtime import Runtime
from dialer.scheduling.policies import CampaignPolicy
from dialer.vocabulary import CampaignStatus, NotificationStatus, PauseKind

__all__ = [
    "INSUFFICIENT_CREDIT",
    "Credit",
    "campaign_credit",
    "campaign_estimate",
    "out_of_credit",
    "watch_credit",
]

log = logging.getLogger(__name__)

C = CampaignStatus
N = NotificationStatus


@dataclass(frozen=True)
class Remaining:
    """What is left to dial, and what one attempt is taken to cost, and why that figure."""

    to_dial: int
    per_attempt: float
    basis: str

    @property
    def cost(self) -> float:
        return round(self.to_dial * self.per_attempt, 4)


@dataclass(frozen=True)
class Credit:
    """A campaign's standing with its provider account: None for a balance that could not be
    read (an account whose balance needs credentials not configured, or a provider error)."""

    balance: float | None
    minimum: float
    estimate: float
    problem: str | None = None
    unit: str = "credits"
    remaining: Remaining | None = None

    @property
    def enough(self) -> bool:
        return self.balance is None or self.balance >= self.minimum + self.estimate

    def reason(self) -> str:
        return (
            f"{INSUFFICIENT_CREDIT}: balance {self.balance:g} {self.unit} is under the minimum "
            f"{self.minimum:g} plus the estimated remaining cost {self.estimate:g}"
        )


def _key(runtime: Runtime, provider: str, what: str) -> str:
    return f"dialer:credit:{provider}:{account_id(runtime.settings, provider)}:{what}"


async def minimum(runtime: Runtime, provider: str) -> float:
    named = await runtime.redis.get(_key(runtime, provider, "minimum"))
    return float(named) if named else runtime.settings.credit_for(provider).minimum


async def read_balance(runtime: Runtime, provider: str) -> tuple[float | None, str | None]:
    """The account's balance, read under its status limit; or None and why not."""
    limit = account_limit(runtime.settings, provider, "status")
    ticket = await take_slot(runtime.limiter, [limit], runtime.settings.pacing_max_wait_s)
    if not isinstance(ticket, Ticket):
        return None, "no slot under the provider's rate to read the balance"
    request = f"balance-{provider}"
    try:
        balance = await ticket.send(
            runtime.limiter, limit, request, runtime.providers[provider].balance
        )
    except ProviderError as exc:
        log.warning("%s: balance not read: %s", provider, exc)
        return None, f"{exc.kind}: {exc.message}"
    return balance, None


# The latest attempts whose cost estimates what is left.
COST_SAMPLE = 1000


async def remaining_cost(session: AsyncSession, runtime: Runtime, campaign: Campaign) -> Remaining:
    """One attempt for each contact not yet dialled, at what its latest attempts cost. Both are
    read from indexes (its tallies, its attempts newest first): the same cost for a campaign of
    ten contacts as for ten million."""
    to_dial = (
        await session.exec(
            select(func.coalesce(func.sum(CampaignTally.contacts), 0)).where(
                col(CampaignTally.campaign_id) == campaign.id,
                col(CampaignTally.status).in_([N.held.value, N.queued.value]),
            )
        )
    ).one()
    latest = (
        select(col(Attempt.cost).label("cost"))
        .where(col(Attempt.campaign_id) == campaign.id, col(Attempt.cost).is_not(None))
        .order_by(col(Attempt.id).desc())
        .limit(COST_SAMPLE)
        .subquery()
    )
    average, attempts = (
        await session.exec(select(func.avg(latest.c.cost), func.count()).select_from(latest))
    ).one()
    if average is not None:
        basis = f"the average cost of this campaign's latest {attempts} attempts"
        return Remaining(int(to_dial), round(float(average), 6), basis)
    terms = runtime.settings.credit_for(campaign.provider)
    per_attempt = terms.per_attempt.get(campaign.channel.value, 0.0)
    basis = f"the configured cost of a {campaign.channel.value} attempt on {campaign.provider}"
    return Remaining(int(to_dial), per_attempt, basis)


async def campaign_credit(
    session: AsyncSession,
    runtime: Runtime,
    campaign: Campaign,
    balance: float | None = None,
    problem: str | None = None,
) -> Credit:
    """Whether the balance covers the campaign: the one given (or why it could not be read),
    else the one read now."""
    assert campaign.id is not None
    if balance is None and problem is None:
        balance, problem = await read_balance(runtime, campaign.provider)
    remaining = await remaining_cost(session, runtime, campaign)
    return Credit(
        balance=balance,
        minimum=await minimum(runtime, campaign.provider),
        estimate=remaining.cost,
        problem=problem,
        unit=runtime.settings.credit_for(campaign.provider).unit,
        remaining=remaining,
    )


async def _pause(runtime: Runtime, campaign_id: int, reason: str) -> bool:
    async with session_scope(runtime.sessions) as session:
        if not await pause_if_live(session, campaign_id, reason, PauseKind.credit):
            return False
    log.warning("campaign %s paused: %s", campaign_id, reason)
    return True


async def out_of_credit(
    runtime: Runtime, provider: str, kind: Kind, refusal: InsufficientCredit
) -> list[int]:
    """The provider refused a request of `kind` for want of credit: remember the minimum it
    named, and pause every running campaign of that account and kind. The ids paused."""
    if refusal.required is not None:
        await runtime.redis.set(_key(runtime, provider, "minimum"), str(refusal.required))
    async with read_scope(runtime.sessions) as session:
        found = await session.exec(
            select(Campaign).where(
                col(Campaign.provider) == provider,
                col(Campaign.status).in_([C.running, C.scheduled]),
            )
        )
        ids = [c.id for c in found.all() if c.id is not None and kind_of(c.channel) == kind]
    reason = f"{INSUFFICIENT_CREDIT}: the provider refused a request ({refusal.message})"
    return [campaign_id for campaign_id in ids if await _pause(runtime, campaign_id, reason)]


async def _resume(runtime: Runtime, campaign_id: int, balance: float) -> bool:
    async with session_scope(runtime.sessions) as session:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None or not paused_for_credit(campaign):
            return False
        if not (await campaign_credit(session, runtime, campaign, balance)).enough:
            return False
        try:
            await start_campaign(session, campaign)
        except CampaignConflict as exc:  # its end_at passed while it waited
            log.warning("campaign %s not resumed: %s", campaign_id, exc)
            return False
    log.info("campaign %s resumed: the balance is back (%g)", campaign_id, balance)
    return True


# Set for `credit_check_interval_s` by the watcher that reads the balances.
WATCH_KEY = "dialer:credit:watch"


async def watch_credit(runtime: Runtime) -> dict[str, int]:
    """Once per `credit_check_interval_s` whichever worker asks: read each account's balance
    and pause the campaigns it no longer covers, resume the ones it covers again."""
    interval_ms = int(runtime.settings.credit_check_interval_s * 1000)
    if not await runtime.redis.set(WATCH_KEY, "1", nx=True, px=interval_ms):
        return {}
    async with read_scope(runtime.sessions) as session:
        found = await session.exec(
            select(Campaign).where(
                or_(
                    col(Campaign.status).in_([C.running, C.scheduled]),
                    col(Campaign.pause_kind) == PauseKind.credit,
                )
            )
        )
        campaigns = [c for c in found.all() if c.status is not C.paused or paused_for_credit(c)]
    paused = resumed = 0
    balances: dict[str, float | None] = {}
    for campaign in campaigns:
        assert campaign.id is not None
        if campaign.provider not in balances:
            balances[campaign.provider], _ = await read_balance(runtime, campaign.provider)
        balance = balances[campaign.provider]
        if balance is None:
            continue
        if campaign.status is C.paused:
            resumed += await _resume(runtime, campaign.id, balance)
            continue
        async with read_scope(runtime.sessions) as session:
            credit = await campaign_credit(session, runtime, campaign, balance)
        if not credit.enough:
            paused += await _pause(runtime, campaign.id, credit.reason())
    return {"paused": paused, "resumed": resumed}


async def campaign_estimate(
    session: AsyncSession, runtime: Runtime, campaign: Campaign
) -> EstimatePublic:
    """The cost of dialling what is left, the balance read now, and whether start (or resume)
    would be allowed, and if not why."""
    assert campaign.id is not None
    credit = await campaign_credit(session, runtime, campaign)
    assert credit.remaining is not None
    remaining = credit.remaining
    try:
        policy = CampaignPolicy.model_validate(campaign.policy, context=STORED).retry_policy()
    except ValidationError as exc:  # stored before a rule it now breaks
        problem = exc.errors()[0]["msg"]
        raise Conflict(f"its policy is not valid: {problem}") from exc
    at_most = remaining.to_dial * (policy.max_attempts + (1 if policy.fallback_on else 0))
    reason = None
    if campaign.status not in (CampaignStatus.draft, CampaignStatus.paused):
        reason = f"a {campaign.status} campaign cannot be started"
    elif not credit.enough:
        reason = credit.reason()
    return EstimatePublic(
        campaign_id=campaign.id,
        provider=campaign.provider,
        channel=campaign.channel,
        unit=credit.unit,
        contacts_to_dial=remaining.to_dial,
        attempts_expected=remaining.to_dial,
        attempts_at_most=at_most,
        cost_per_attempt=remaining.per_attempt,
        basis=remaining.basis,
        estimated_cost=credit.estimate,
        estimated_cost_at_most=round(at_most * remaining.per_attempt, 4),
        minimum=credit.minimum,
        balance=credit.balance,
        balance_problem=credit.problem,
        start_allowed=reason is None,
        reason=reason,
    )
