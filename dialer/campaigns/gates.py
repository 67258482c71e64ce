"""The campaign's gates, checked for each contact at the moment it would be dialled: the
campaign's state, its end, the calling window in the person's own time zone, its concurrency cap;
and the message, rendered from the campaign's template with the contact's variables."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts.transitions import move_campaign, move_notification
from dialer.campaigns.endings import report_ended_campaigns
from dialer.campaigns.messages import Rendered
from dialer.campaigns.service import pause_campaign
from dialer.models import Attempt, Campaign, Notification
from dialer.scheduling.policies import CampaignPolicy
from dialer.scheduling.schedule import Schedule
from dialer.scheduling.windows import NoOpening, next_opening, zones_for
from dialer.vocabulary import FINAL_ATTEMPT, FINAL_NOTIFICATION, CampaignStatus, NotificationStatus

__all__ = ["CAP_WAIT_S", "campaign_gate", "defer_closed_windows", "settle_campaigns"]

log = logging.getLogger(__name__)

C = CampaignStatus
N = NotificationStatus
# How long a contact waits when its campaign has as many calls in flight as it allows.
CAP_WAIT_S = 2.0


def _close(notification: Notification, to: NotificationStatus, reason: str) -> str:
    move_notification(notification, to)
    notification.last_error = reason
    return reason


async def campaign_gate(
    session: AsyncSession, notification: Notification, now: datetime, rendered: Rendered
) -> str | None:
    """None if this campaign contact may be dialled now (its text, `rendered` before the claim,
    taken); else what happened instead, for the job log: held, moved to its next window, or
    closed with a reason."""
    if notification.campaign_id is None:
        return None
    campaign = await session.get(Campaign, notification.campaign_id)
    assert campaign is not None
    if campaign.status is C.canceled:
        return _close(notification, N.canceled, "the campaign was canceled")
    if campaign.status not in (C.running, C.scheduled):
        move_notification(notification, N.held)
        return f"campaign {campaign.status}"
    schedule = await _schedule_or_pause(session, campaign)
    if schedule is None:
        move_notification(notification, N.held)
        return f"campaign paused: {campaign.pause_reason}"
    if schedule.end_at is not None and now >= schedule.end_at:
        return _close(notification, N.expired, "the campaign ended before it could be dialled")
    try:
        zones = zones_for(notification.to_number, notification.timezone, schedule.timezone)
        opening = next_opening(now, schedule, zones)
    except NoOpening as exc:
        return _close(notification, N.expired, f"no calling window left: {exc}")
    except (ValueError, TypeError, OverflowError, ZoneInfoNotFoundError) as exc:
        # This contact's own zone or number; the campaign's other contacts go on.
        log.warning("notification %s: no calling window: %r", notification.id, exc)
        return _close(notification, N.failed, f"its calling window cannot be worked out: {exc}")
    if opening is not None:
        if schedule.end_at is not None and opening >= schedule.end_at:
            return _close(
                notification, N.expired, "no calling window left before the campaign's end"
            )
        notification.due_at = opening
        return "outside the calling window"
    cap = CampaignPolicy.model_validate(campaign.policy).max_concurrent
    if cap is not None and await _in_flight(session, notification.campaign_id) >= cap:
        notification.due_at = now + timedelta(seconds=CAP_WAIT_S)
        return "campaign at its concurrency cap"
    if notification.on_fallback:
        if notification.fallback_text is not None:
            return None
        if rendered.fallback_text is not None:
            notification.fallback_text = rendered.fallback_text
            return None
        if CampaignPolicy.model_validate(campaign.policy).sms_fallback is None:
            return _close(notification, N.failed, "the campaign no longer has an SMS fallback")
        return await _unrendered(session, campaign, notification, rendered)
    if campaign.template and notification.text is None:
        if rendered.text is None:
            return await _unrendered(session, campaign, notification, rendered)
        notification.text = rendered.text
    if campaign.script and notification.script is None:
        if rendered.script is None:
            return await _unrendered(session, campaign, notification, rendered)
        notification.script = rendered.script
    return None


async def _unrendered(
    session: AsyncSession, campaign: Campaign, notification: Notification, rendered: Rendered
) -> str:
    """The contact's text could not be rendered: closed with the reason. A template past its
    time or memory budget would only do so again for the next contact, each costing its
    budget: the campaign is paused too, with the reason, until someone looks."""
    reason = rendered.problem or "its text was not rendered"
    _close(notification, N.failed, reason)
    if rendered.bound:
        row = f"row {notification.row_number}" if notification.row_number else "a contact"
        log.error("campaign %s paused: %s (%s)", campaign.id, reason, row)
        await session.flush()  # this contact is closed, not held with the others
        await pause_campaign(session, campaign, f"{reason} ({row})")
    return reason


def _schedule_of(campaign: Campaign) -> Schedule | str:
    """The campaign's schedule, or why it cannot be evaluated (stored before a rule existed)."""
    try:
        return Schedule.model_validate(campaign.schedule)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        return f"its schedule is no longer valid: {problems}"


async def _schedule_or_pause(session: AsyncSession, campaign: Campaign) -> Schedule | None:
    """The campaign's schedule; None after pausing a campaign whose schedule is broken, so that
    one campaign's bad data stops only that campaign."""
    schedule = _schedule_of(campaign)
    if isinstance(schedule, Schedule):
        return schedule
    log.error("campaign %s paused: %s", campaign.id, schedule)
    await pause_campaign(session, campaign, schedule)
    return None


async def _in_flight(session: AsyncSession, campaign_id: int) -> int:
    rows = await session.exec(
        select(func.count())
        .select_from(Attempt)
        .join(Notification, col(Notification.id) == col(Attempt.notification_id))
        .where(
            col(Notification.campaign_id) == campaign_id,
            col(Attempt.status).not_in(list(FINAL_ATTEMPT)),
        )
    )
    return int(rows.one())


async def settle_campaigns(session: AsyncSession, now: datetime) -> dict[str, int]:
    """A scheduled campaign whose start has come runs; a running one with nobody left to dial
    or follow is completed; one whose stored schedule is broken is paused with the reason."""
    started = completed = 0
    live = await session.exec(
        select(Campaign).where(col(Campaign.status).in_([C.scheduled, C.running]))
    )
    open_statuses = [s for s in NotificationStatus if s not in FINAL_NOTIFICATION]
    for campaign in live.all():
        schedule = await _schedule_or_pause(session, campaign)
        if schedule is None:
            continue
        if campaign.status is C.scheduled:
            start_at = schedule.start_at
            if start_at is None or start_at <= now:
                move_campaign(campaign, C.running)
                started += 1
            continue
        left = await session.exec(
            select(Notification.id)
            .where(
                col(Notification.campaign_id) == campaign.id,
                col(Notification.status).in_(open_statuses),
            )
            .limit(1)
        )
        if left.first() is None:
            move_campaign(campaign, C.completed)
            completed += 1
    reported = await report_ended_campaigns(session, now)
    return {
        "campaigns_started": started,
        "campaigns_completed": completed,
        "campaigns_reported": reported,
    }


async def defer_closed_windows(session: AsyncSession, now: datetime, ids: list[int]) -> set[int]:
    """Move each of these due campaign contacts whose calling window is closed to its next
    opening, all in one statement, and return their ids. A campaign that opens in one zone
    hours before another would otherwise spend one dial job per contact to learn it; the dial
    job still checks every gate, this only keeps the others out of the queue."""
    rows = (
        await session.exec(
            select(
                Notification.id,
                Notification.campaign_id,
                Notification.to_number,
                Notification.timezone,
            ).where(col(Notification.id).in_(ids), col(Notification.campaign_id).is_not(None))
        )
    ).all()
    if not rows:
        return set()
    found = await session.exec(
        select(Campaign).where(col(Campaign.id).in_({row[1] for row in rows}))
    )
    schedules = {c.id: _schedule_of(c) for c in found.all()}
    moved: dict[int, datetime] = {}
    for notification_id, campaign_id, number, zone in rows:
        schedule = schedules[campaign_id]
        if not isinstance(schedule, Schedule):
            continue  # the dial job pauses its campaign, with the reason
        try:
            opening = next_opening(now, schedule, zones_for(number, zone, schedule.timezone))
        except (ValueError, TypeError, OverflowError):
            continue  # the dial job closes it, with the reason
        if opening is None or notification_id is None:
            continue
        if schedule.end_at is None or opening < schedule.end_at:
            moved[notification_id] = opening
    if moved:
        changes = [{"id": i, "due_at": opening} for i, opening in moved.items()]
        await session.exec(update(Notification), params=changes)
    return set(moved)
