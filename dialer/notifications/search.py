"""Finding notifications for a person at a desk: every message to one number, campaign contacts
included; or the API's notifications by status and time. Each query keeps to an index: a
number is looked up per campaign in (campaign_id, to_number), never by a scan of the contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import Campaign, Notification
from dialer.vocabulary import NotificationStatus

__all__ = ["Search", "search_notifications"]


@dataclass(frozen=True)
class Search:
    number: str | None = None
    status: NotificationStatus | None = None
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None
    limit: int = 50


async def search_notifications(session: AsyncSession, search: Search) -> list[Notification]:
    """Newest first. With a number: that number's messages, API and campaigns alike; without:
    the API's notifications (campaign contacts are on their campaign's page)."""
    filters = []
    if search.status is not None:
        filters.append(col(Notification.status) == search.status)
    if search.since is not None:
        filters.append(col(Notification.created_at) >= search.since)
    if search.until is not None:
        filters.append(col(Notification.created_at) < search.until)
    if search.before is not None:
        filters.append(col(Notification.id) < search.before)
    if search.number is None:
        query = select(Notification).where(col(Notification.campaign_id).is_(None), *filters)
        rows = await session.exec(query.order_by(col(Notification.id).desc()).limit(search.limit))
        return list(rows.all())
    number = col(Notification.to_number) == search.number
    api = select(Notification.id).where(col(Notification.campaign_id).is_(None), number)
    # As IN, not a join: both databases then seek (campaign, number) once per campaign.
    campaigns = col(Notification.campaign_id).in_(select(Campaign.id))
    contacts = select(Notification.id).where(campaigns, number)
    ids = sa.union_all(api, contacts).subquery()
    query = select(Notification).where(col(Notification.id).in_(select(ids.c.id)), *filters)
    rows = await session.exec(query.order_by(col(Notification.id).desc()).limit(search.limit))
    return list(rows.all())
