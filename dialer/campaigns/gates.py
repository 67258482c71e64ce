"""The campaign's gates, checked for each contact at the moment it would be dialled: the
campaign's state, its end, the calling window in the person's own time zone, its concurrency cap;
and the message, rendered from the campaign's template with the contact's variables."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.schemas import CampaignPolicy, Schedule
from dialer.campaigns.windows import NoOpening, next_opening, zones_for
from dialer.lifecycle import FINAL_ATTEMPT, FINAL_NOTIFICATION, move_campaign, move_notification
from dialer.models import (
    Attempt,
    Campaign,
    CampaignStatus,
    Notification,
    NotificationStatus,
)
from dialer.sms import MAX_SMS_CHARS
from dialer.templating import TemplateProblem, render_text

__all__ = ["CAP_WAIT_S", "campaign_gate", "defer_closed_windows", "settle_campaigns"]

C = CampaignStatus
N = NotificationStatus
# How long a contact waits when its campaign has as many calls in flight as it allows.
CAP_WAIT_S = 2.0


def _close(notification: Notification, to: NotificationStatus, reason: str) -> str:
    move_notification(notification, to)
    notification.last_error = reason
    return reason


async def campaign_gate(
    session: AsyncSession, notification: Notification, now: datetime
) -> str | None:
    """None if this campaign contact may be dialled now (its text rendered); else what happened
    instead, for the job log: held, moved to its next window, or closed with a reason."""
    if notification.campaign_id is None:
        return None
    campaign = await session.get(Campaign, notification.campaign_id)
    assert campaign is not None
    if campaign.status is C.canceled:
        return _close(notification, N.canceled, "the campaign was canceled")
    if campaign.status not in (C.running, C.scheduled):
        move_notification(notification, N.held)
        return f"campaign {campaign.status}"
    schedule = Schedule.model_validate(campaign.schedule)
    if schedule.end_at is not None and now >= schedule.end_at:
        return _close(notification, N.expired, "the campaign ended before it could be dialled")
    zones = zones_for(notification.to_number, notification.timezone, schedule.timezone)
    try:
        opening = next_opening(now, schedule, zones)
    except NoOpening as exc:
        return _close(notification, N.expired, f"no calling window left: {exc}")
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
        return _render_fallback(notification, CampaignPolicy.model_validate(campaign.policy))
    if campaign.template and notification.text is None:
        try:
            notification.text = render_text(campaign.template, notification.variables or {})
        except TemplateProblem as exc:
            return _close(notification, N.failed, f"template: {exc}")
    return None


def _render_fallback(notification: Notification, policy: CampaignPolicy) -> str | None:
    if notification.fallback_text is not None:
        return None
    if policy.sms_fallback is None:
        return _close(notification, N.failed, "the campaign no longer has an SMS fallback")
    try:
        text = render_text(policy.sms_fallback.template, notification.variables or {})
    except TemplateProblem as exc:
        return _close(notification, N.failed, f"sms_fallback template: {exc}")
    if not text or len(text) > MAX_SMS_CHARS:
        reason = f"sms_fallback text is {len(text)} characters (1 to {MAX_SMS_CHARS})"
        return _close(notification, N.failed, reason)
    notification.fallback_text = text
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
    or follow is completed."""
    started = completed = 0
    live = await session.exec(
        select(Campaign).where(col(Campaign.status).in_([C.scheduled, C.running]))
    )
    open_statuses = [s for s in NotificationStatus if s not in FINAL_NOTIFICATION]
    for campaign in live.all():
        if campaign.status is C.scheduled:
            start_at = Schedule.model_validate(campaign.schedule).start_at
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
    return {"campaigns_started": started, "campaigns_completed": completed}


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
    schedules = {c.id: Schedule.model_validate(c.schedule) for c in found.all()}
    moved: dict[int, datetime] = {}
    for notification_id, campaign_id, number, zone in rows:
        schedule = schedules[campaign_id]
        try:
            opening = next_opening(now, schedule, zones_for(number, zone, schedule.timezone))
        except NoOpening:
            continue  # the dial job closes it, with the reason
        if opening is None or notification_id is None:
            continue
        if schedule.end_at is None or opening < schedule.end_at:
            moved[notification_id] = opening
    if moved:
        changes = [{"id": i, "due_at": opening} for i, opening in moved.items()]
        await session.exec(update(Notification), params=changes)
    return set(moved)
