"""What a campaign is doing, read without touching its contacts: finals per minute and outcome
(kept in campaign_minute as attempts end), the rate of the last minutes, its most recent
attempts and its uploads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.schemas import PacePublic
from dialer.models import (
    Attempt,
    Campaign,
    CampaignMinute,
    ContactImport,
    ImportIssue,
    Notification,
    utcnow,
)
from dialer.pacing.service import account_limit, campaign_limits, kind_of
from dialer.runtime import Runtime

__all__ = [
    "RATE_WINDOW",
    "Minutes",
    "RecentAttempt",
    "finals_per_minute",
    "finals_rates",
    "first_contacts",
    "first_issues",
    "imports_of",
    "pacing_of",
    "recent_attempts",
]

# "Rate now" is the finals of the current minute and the one before, over the time they span.
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Minutes:
    """Finals per minute: `minutes` as Unix seconds, and for each outcome a count per minute."""

    minutes: list[int]
    outcomes: dict[str, list[int]]


async def finals_per_minute(session: AsyncSession, campaign_id: int) -> Minutes:
    rows = (
        await session.exec(
            select(CampaignMinute.minute, CampaignMinute.outcome, CampaignMinute.finals)
            .where(col(CampaignMinute.campaign_id) == campaign_id)
            .order_by(col(CampaignMinute.minute))
        )
    ).all()
    if not rows:
        return Minutes([], {})
    first, last = rows[0][0], rows[-1][0]
    span = int((last - first).total_seconds() // 60) + 1
    minutes = [int((first + timedelta(minutes=i)).timestamp()) for i in range(span)]
    outcomes: dict[str, list[int]] = {}
    for minute, outcome, finals in rows:
        series = outcomes.setdefault(outcome, [0] * span)
        series[int((minute - first).total_seconds() // 60)] += finals
    return Minutes(minutes, dict(sorted(outcomes.items())))


async def finals_rates(
    session: AsyncSession, campaign_ids: list[int], now: datetime | None = None
) -> dict[int, float]:
    """Finals per second lately, per campaign: the current minute and the one before."""
    now = now or utcnow()
    since = now.replace(second=0, microsecond=0) - RATE_WINDOW
    seconds = (now - since).total_seconds()
    rows = await session.exec(
        select(CampaignMinute.campaign_id, func.sum(CampaignMinute.finals))
        .where(
            col(CampaignMinute.campaign_id).in_(campaign_ids),
            col(CampaignMinute.minute) >= since,
        )
        .group_by(col(CampaignMinute.campaign_id))
    )
    found = {campaign_id: float(total or 0) / seconds for campaign_id, total in rows.all()}
    return {i: found.get(i, 0.0) for i in campaign_ids}


@dataclass(frozen=True)
class RecentAttempt:
    attempt: Attempt
    notification: Notification


async def recent_attempts(
    session: AsyncSession, campaign_id: int, limit: int = 15
) -> list[RecentAttempt]:
    """The attempts most recently started, newest first (by ix_attempt_campaign_id_id)."""
    rows = await session.exec(
        select(Attempt, Notification)
        .join(Notification, col(Notification.id) == col(Attempt.notification_id))
        .where(col(Attempt.campaign_id) == campaign_id)
        .order_by(col(Attempt.id).desc())
        .limit(limit)
    )
    return [RecentAttempt(attempt, notification) for attempt, notification in rows.all()]


async def imports_of(session: AsyncSession, campaign_id: int) -> list[ContactImport]:
    rows = await session.exec(
        select(ContactImport)
        .where(col(ContactImport.campaign_id) == campaign_id)
        .order_by(col(ContactImport.id))
    )
    return list(rows.all())


async def pacing_of(runtime: Runtime, campaign: Campaign) -> list[PacePublic]:
    """The limits its requests keep to as they stand: the account's, then its own if any."""
    account = account_limit(runtime.settings, campaign.provider, kind_of(campaign.channel))
    return [
        PacePublic.of(await runtime.limiter.pace(limit))
        for limit in [account, *campaign_limits(campaign)]
    ]


async def first_issues(
    session: AsyncSession, upload: ContactImport, limit: int = 10
) -> list[ImportIssue]:
    """An upload's first rows not taken, to show beside its counts (issues.csv has them all)."""
    rows = await session.exec(
        select(ImportIssue)
        .where(col(ImportIssue.import_id) == upload.id)
        .order_by(col(ImportIssue.row_number))
        .limit(limit)
    )
    return list(rows.all())


async def first_contacts(session: AsyncSession, campaign_id: int, limit: int) -> list[Notification]:
    """A few of its contacts, the first by number: in the order of the campaign's own index,
    read without a sort whatever the campaign's size."""
    rows = await session.exec(
        select(Notification)
        .where(col(Notification.campaign_id) == campaign_id)
        .order_by(col(Notification.campaign_id), col(Notification.to_number))
        .limit(limit)
    )
    return list(rows.all())
