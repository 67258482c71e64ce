"""campaign.finished: written once a campaign has ended (completed or canceled) and nothing of
it is ringing or waiting any more, with its counts as they then stand; the hopper looks each
tick, so the calls still ringing at a cancel are over and reported first."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.counts import Counts, campaign_counts, tallies
from dialer.models import Campaign, Notification
from dialer.outbox import add_event
from dialer.payloads import CampaignEvent
from dialer.vocabulary import CampaignStatus, EventKind
from dialer.vocabulary import NotificationStatus as N

__all__ = ["campaign_event", "report_ended_campaigns"]

_CAMPAIGN_DONE = frozenset({CampaignStatus.completed, CampaignStatus.canceled})
# A canceled campaign's contact may still ring, or wait to be closed by its next dial job.
_STILL_GOING = frozenset({N.queued, N.dialing, N.in_progress})


def campaign_event(campaign: Campaign, counts: Counts) -> CampaignEvent:
    assert campaign.id is not None
    return CampaignEvent(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        **tallies(counts),
        started_at=campaign.started_at,
        finished_at=campaign.finished_at,
    )


async def report_ended_campaigns(session: AsyncSession, now: datetime) -> int:
    """Write campaign.finished for each ended campaign (completed or canceled) that nothing is
    ringing or waiting for any more, with its counts as they now stand; once each."""
    ended = await session.exec(
        select(Campaign)
        .where(
            col(Campaign.status).in_(list(_CAMPAIGN_DONE)),
            col(Campaign.finished_reported_at).is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    reported = 0
    for campaign in ended.all():
        assert campaign.id is not None
        busy = await session.exec(
            select(Notification.id)
            .where(
                col(Notification.campaign_id) == campaign.id,
                col(Notification.status).in_(list(_STILL_GOING)),
            )
            .limit(1)
        )
        if busy.first() is not None:
            continue
        campaign.finished_reported_at = now
        reported += 1
        if campaign.webhook_id is not None:
            counts = await campaign_counts(session, campaign.id)
            body = campaign_event(campaign, counts)
            add_event(
                session.sync_session,
                campaign.webhook_id,
                EventKind.campaign_finished,
                {"campaign": body},
            )
    return reported
