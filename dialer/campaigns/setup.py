"""Setting a campaign up, the same from the API and the console: creating it with every check,
and importing its contacts from a file."""

from __future__ import annotations

from typing import Any, BinaryIO

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.concurrency import run_in_threadpool

from dialer.audio.service import give_audio_urls
from dialer.campaigns import service
from dialer.campaigns.messages import render_contact, template_refusals
from dialer.campaigns.schemas import CampaignCreate
from dialer.contacts.importer import import_contacts
from dialer.contacts.reader import CsvLayout, CsvProblem
from dialer.db import session_scope
from dialer.errors import FieldError, FieldErrors
from dialer.flows.scripted import check_script
from dialer.models import Campaign, Notification
from dialer.runtime import Runtime
from dialer.scheduling.policies import CampaignPolicy
from dialer.scripts.schemas import Script
from dialer.vocabulary import Channel
from dialer.webhooks.service import webhook_for

__all__ = ["create_checked", "import_file"]


async def create_checked(runtime: Runtime, session: AsyncSession, body: CampaignCreate) -> Campaign:
    """A new draft; FieldError(s) for a provider not configured here or a template that no
    contact could render."""
    if body.provider not in runtime.providers:
        message = f"provider {body.provider!r} is not configured here"
        raise FieldError("provider", message, value=body.provider)
    refusals = await template_refusals(runtime.templates, body)
    if refusals:
        raise FieldErrors([FieldError(field, why) for field, why in refusals.items()])
    webhook = str(body.webhook_url) if body.webhook_url else None
    webhook_id = await webhook_for(session, webhook, runtime.settings)
    await give_audio_urls(session, runtime.settings, body)
    return await service.create_campaign(session, body, webhook_id)


async def import_file(
    runtime: Runtime,
    campaign_id: int,
    stream: BinaryIO,
    layout: CsvLayout,
    filename: str | None,
    field: str,
) -> dict[str, Any]:
    """Import a file of contacts; its report, with where its issues.csv is in the API. A file
    that cannot be read at all is a FieldError on `field`."""
    # No request-long session here: on SQLite it would hold the write lock the import needs.
    async with session_scope(runtime.sessions) as session:
        await service.get_campaign(session, campaign_id)
    try:
        report = await run_in_threadpool(
            import_contacts, runtime.sync_engine, campaign_id, stream, layout, filename=filename
        )
    except CsvProblem as exc:
        raise FieldError(field, str(exc)) from exc
    answer: dict[str, Any] = {
        **report.as_dict(),
        "issues_url": f"/v1/campaigns/{campaign_id}/imports/{report.import_id}/issues.csv",
    }
    if report.longest:
        answer["script_check"] = await _script_at_its_largest(runtime, campaign_id, report.longest)
    return answer


async def _script_at_its_largest(
    runtime: Runtime, campaign_id: int, longest: dict[str, str]
) -> dict[str, Any]:
    """The campaign's script rendered with the upload's longest values and measured: a contact
    whose own flows would be over Voxology's limit is closed with the reason before its call."""
    async with session_scope(runtime.sessions) as session:
        campaign = await service.get_campaign(session, campaign_id)
    largest = Notification(
        provider=campaign.provider,
        channel=campaign.channel,
        to_number="",
        from_number=campaign.from_number,
        variables=longest,
    )
    rendered = await render_contact(runtime.templates, largest, campaign)
    if rendered.script is None:
        return {"largest_flow_bytes": None, "problems": [rendered.problem], "warnings": []}
    policy = CampaignPolicy.model_validate(campaign.policy)
    checked = check_script(
        Script.model_validate(rendered.script),
        lang=campaign.lang,
        detect=campaign.channel is Channel.voice_flow,
        leave_voicemail=policy.voicemail != "retry",
    )
    return {
        "largest_flow_bytes": checked.largest_bytes,
        "problems": checked.problems,
        "warnings": [checked.warning] if checked.warning else [],
    }
