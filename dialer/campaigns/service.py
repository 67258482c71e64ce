"""Campaign rules and queries: create, the lifecycle (start, pause, resume, cancel), counts.

A campaign's contacts are notifications. They wait as `held` while the campaign is not running
and are moved together, with one UPDATE, when it starts, pauses or is canceled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.transitions import IllegalTransition, move_campaign
from dialer.campaigns.issue_rows import issue_rows
from dialer.campaigns.schemas import CampaignCreate
from dialer.errors import Conflict, NotFound
from dialer.models import Campaign, ContactImport, ImportIssue, Notification, utcnow
from dialer.notifications.service import normalise_sender
from dialer.outbox import Tally, add_tallies, tally_key
from dialer.scheduling.schedule import Schedule
from dialer.vocabulary import CampaignStatus, NotificationStatus, PauseKind

__all__ = [
    "INSUFFICIENT_CREDIT",
    "CampaignConflict",
    "cancel_campaign",
    "create_campaign",
    "get_campaign",
    "get_import",
    "issue_pages",
    "issue_query",
    "list_campaigns",
    "pause_campaign",
    "pause_if_live",
    "paused_for_credit",
    "start_campaign",
]

C = CampaignStatus
N = NotificationStatus


class CampaignConflict(Conflict):
    """A lifecycle request the campaign's status does not allow."""


async def create_campaign(
    session: AsyncSession, data: CampaignCreate, webhook_id: int | None = None
) -> Campaign:
    sender = normalise_sender(data.channel, data.provider, data.from_, data.default_region)
    campaign = Campaign(
        name=data.name,
        provider=data.provider,
        channel=data.channel,
        from_number=sender,
        template=data.template,
        recording_url=str(data.recording_url) if data.recording_url else None,
        script=data.script.model_dump(mode="json", exclude_none=True) if data.script else None,
        lang=data.lang,
        schedule=data.schedule.model_dump(mode="json"),
        policy=data.policy.model_dump(mode="json"),
        default_region=data.default_region.upper(),
        webhook_id=webhook_id,
    )
    session.add(campaign)
    await session.flush()
    return campaign


def _move(campaign: Campaign, to: CampaignStatus) -> None:
    try:
        move_campaign(campaign, to)
    except IllegalTransition as exc:
        raise CampaignConflict(f"a {campaign.status} campaign cannot become {to}") from exc


async def _move_contacts(
    session: AsyncSession,
    campaign_id: int,
    frm: tuple[NotificationStatus, ...],
    to: N,
    now: datetime,
) -> int:
    values: dict[str, object] = {"status": to, "updated_at": now}
    if to is N.canceled:
        values["finished_at"] = now
        values["last_error"] = "the campaign was canceled"
    # One UPDATE per status moves them all; what each returns moves their counts with them,
    # exactly, whatever else changes those contacts meanwhile.
    tallies: Tally = Counter()
    moved = 0
    for status in frm:
        result = await session.exec(
            update(Notification)
            .where(col(Notification.campaign_id) == campaign_id, col(Notification.status) == status)
            .values(**values)
            .returning(col(Notification.outcome), col(Notification.answer))
        )
        for (outcome, answer), n in Counter(result.all()).items():
            tallies[tally_key(campaign_id, status, outcome, answer)] -= n
            tallies[tally_key(campaign_id, to, outcome, answer)] += n
            moved += n
    connection = await session.connection()
    await connection.run_sync(add_tallies, tallies)
    return moved


async def start_campaign(session: AsyncSession, campaign: Campaign) -> int:
    """Start (or resume) a campaign: its held contacts join the queue. Before its start_at the
    campaign is `scheduled`: the contacts are queued, but not due until then."""
    assert campaign.id is not None
    now = utcnow()
    try:
        schedule = Schedule.model_validate(campaign.schedule)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise CampaignConflict(f"its schedule is no longer valid: {problem}") from exc
    if schedule.end_at is not None and schedule.end_at <= now:
        raise CampaignConflict("the campaign's end_at has passed")
    later = schedule.start_at is not None and schedule.start_at > now
    _move(campaign, C.scheduled if later else C.running)
    campaign.pause_reason = None
    campaign.pause_kind = None
    return await _move_contacts(session, campaign.id, (N.held,), N.queued, now)


async def pause_campaign(
    session: AsyncSession, campaign: Campaign, reason: str, kind: PauseKind = PauseKind.manual
) -> int:
    """Nothing not yet dialled is dialled, retries included; calls under way finish."""
    assert campaign.id is not None
    _move(campaign, C.paused)
    campaign.pause_reason = reason
    campaign.pause_kind = kind
    return await _move_contacts(session, campaign.id, (N.queued,), N.held, utcnow())


INSUFFICIENT_CREDIT = "insufficient credit"


async def pause_if_live(
    session: AsyncSession, campaign_id: int, reason: str, kind: PauseKind
) -> bool:
    """Pause the campaign if it is running or scheduled; whether it was."""
    campaign = await session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None or campaign.status not in (C.running, C.scheduled):
        return False
    await pause_campaign(session, campaign, reason, kind)
    return True


def paused_for_credit(campaign: Campaign) -> bool:
    return campaign.status is C.paused and campaign.pause_kind is PauseKind.credit


async def cancel_campaign(session: AsyncSession, campaign: Campaign) -> int:
    assert campaign.id is not None
    _move(campaign, C.canceled)
    return await _move_contacts(session, campaign.id, (N.queued, N.held), N.canceled, utcnow())


async def get_campaign(session: AsyncSession, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def list_campaigns(
    session: AsyncSession, status: CampaignStatus | None, before: int | None, limit: int
) -> list[Campaign]:
    """Newest first; `before`: only campaigns with a smaller id."""
    query = select(Campaign).order_by(col(Campaign.id).desc()).limit(limit)
    if status is not None:
        query = query.where(col(Campaign.status) == status)
    if before is not None:
        query = query.where(col(Campaign.id) < before)
    return list((await session.exec(query)).all())


async def get_import(session: AsyncSession, campaign_id: int, import_id: int) -> ContactImport:
    record = await session.get(ContactImport, import_id)
    if record is None or record.campaign_id != campaign_id:
        raise NotFound(f"no import {import_id} in this campaign")
    return record


def issue_query(import_id: int, page: int | None) -> Any:
    """An import's issues in row order (the importer writes them so), on the index (import_id,
    id): the `page` after the id bound as `after`, or (`page` None) those with ids from `lo` up
    to `hi`."""
    columns = (
        col(ImportIssue.id),
        col(ImportIssue.row_number),
        col(ImportIssue.phone),
        col(ImportIssue.reason),
    )
    query = sa.select(*columns).where(col(ImportIssue.import_id) == import_id)
    identity = col(ImportIssue.id)
    if page is None:
        return query.where(
            identity >= sa.bindparam("lo", type_=sa.BigInteger()),
            identity < sa.bindparam("hi", type_=sa.BigInteger()),
        ).order_by(identity)
    after = sa.bindparam("after", type_=sa.BigInteger())
    return query.where(identity > after).order_by(identity).limit(page)


async def issue_pages(
    session: AsyncSession, import_id: int, page: int = 5000
) -> AsyncIterator[list[list[Any]]]:
    """The rows an import did not take, in row order, a page at a time by keyset, one statement
    made once."""
    conn = await session.connection()
    query = issue_query(import_id, page)
    after: int | None = 0
    while issues := (await conn.execute(query, {"after": after})).all():
        after = issues[-1][0]
        yield issue_rows(issues)
