"""A test call: one call of a campaign's message or script, rendered with its first contact's
columns, to a number the operator gives; a notification of its own, outside the campaign's
counts, under the do-not-contact list like any other."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import col, select

from dialer.campaigns.messages import render_contact
from dialer.campaigns.service import get_campaign
from dialer.db import session_scope
from dialer.errors import Conflict, FieldError
from dialer.models import Notification
from dialer.notifications.schemas import NotificationCreate
from dialer.notifications.service import create_notification
from dialer.runtime import Runtime, enqueue_dial
from dialer.scheduling.policies import RetryPolicy
from dialer.vocabulary import NotificationStatus

__all__ = ["place_test_call"]


async def place_test_call(
    runtime: Runtime, campaign_id: int, to: str, api_key_id: int | None
) -> Notification:
    """The test call's notification, queued for dialling now."""
    async with session_scope(runtime.sessions) as session:
        campaign = await get_campaign(session, campaign_id)
        first = (
            await session.exec(
                select(Notification)
                .where(col(Notification.campaign_id) == campaign_id)
                .order_by(col(Notification.id))
                .limit(1)
            )
        ).first()
        if first is None and (campaign.template or campaign.script):
            raise Conflict("a test call renders the first contact's columns: upload contacts first")
        stand_in = Notification(
            provider=campaign.provider,
            channel=campaign.channel,
            to_number=to,
            from_number=campaign.from_number,
            variables=first.variables if first else {},
        )
    rendered = await render_contact(runtime.templates, stand_in, campaign)
    if rendered.problem is not None:
        raise Conflict(f"the first contact's message cannot be rendered: {rendered.problem}")
    try:
        body = NotificationCreate.model_validate(
            {
                "channel": campaign.channel,
                "provider": campaign.provider,
                "to": to,
                "from": campaign.from_number,
                "text": rendered.text,
                "lang": campaign.lang,
                "recording_url": campaign.recording_url,
                "script": rendered.script,
                "policy": RetryPolicy(max_attempts=1),
            }
        )
    except ValidationError as exc:
        raise FieldError("", f"the campaign's message cannot be sent as a test: {exc}") from exc
    async with session_scope(runtime.sessions) as session:
        made, _ = await create_notification(
            session,
            body,
            api_key_id=api_key_id,
            idempotency_key=None,
            default_region=campaign.default_region,
        )
    assert made.id is not None
    if made.status is NotificationStatus.queued:
        await enqueue_dial(runtime.redis, made.id)
    return made
