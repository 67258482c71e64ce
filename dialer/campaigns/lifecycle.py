"""Start, resume, pause and cancel a campaign, as its owner asks. A start or resume reads the
provider's balance first, before any write transaction is open: on SQLite a network call inside
one would hold the only write lock for as long as the provider takes."""

from __future__ import annotations

from typing import Literal

from dialer.campaigns import service
from dialer.campaigns.credit import campaign_credit, read_balance
from dialer.db import read_scope, session_scope
from dialer.errors import NotFound
from dialer.models import Campaign
from dialer.runtime import Runtime
from dialer.vocabulary import CampaignStatus

__all__ = ["Action", "change_state"]

Action = Literal["start", "resume", "pause", "cancel"]


async def change_state(
    runtime: Runtime, campaign_id: int, action: Action, reason: str = ""
) -> None:
    """Raises NotFound, or CampaignConflict with why the campaign cannot do this now."""
    balance: float | None = None
    problem: str | None = None
    if action in ("start", "resume"):
        async with read_scope(runtime.sessions) as session:
            found = await session.get(Campaign, campaign_id)
        if found is None:
            raise NotFound(f"no campaign {campaign_id}")
        balance, problem = await read_balance(runtime, found.provider)
    async with session_scope(runtime.sessions) as session:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        if action in ("start", "resume"):
            if campaign.status in (CampaignStatus.completed, CampaignStatus.canceled):
                raise service.CampaignConflict(
                    f"a {campaign.status} campaign has ended: it cannot {action}; "
                    "create a new campaign to call its contacts again"
                )
            paused = campaign.status is CampaignStatus.paused
            if (action == "resume") != paused:
                raise service.CampaignConflict(
                    f"{action} a {campaign.status} campaign: use {'resume' if paused else 'start'}"
                )
            credit = await campaign_credit(session, runtime, campaign, balance, problem)
            if not credit.enough:
                raise service.CampaignConflict(credit.reason())
            await service.start_campaign(session, campaign)
        elif action == "pause":
            await service.pause_campaign(session, campaign, reason)
        else:
            await service.cancel_campaign(session, campaign)
