"""A campaign contact's texts, rendered from the campaign's templates before its claim: in a
child process under a time budget (dialer.user_templates), outside any transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dialer.campaigns.schemas import CampaignCreate
from dialer.models import Campaign, Notification
from dialer.notifications.schemas import MAX_TTS_CHARS
from dialer.scheduling.policies import CampaignPolicy
from dialer.scripts.schemas import Script
from dialer.sms import MAX_SMS_CHARS
from dialer.templating import template_variables
from dialer.user_templates import RenderFailed, TemplatePool
from dialer.vocabulary import Channel

__all__ = ["Rendered", "render_contact", "template_refusals", "text_refusal"]


@dataclass(frozen=True)
class Rendered:
    """What the contact's next attempt says: `text` (the campaign's message) or `fallback_text`
    (the SMS after the calls), else `problem`. `bound`: the template ran past its time or memory
    budget, a fault of the template rather than of this contact's data."""

    text: str | None = None
    fallback_text: str | None = None
    # A call script, its texts rendered (dialer.scripts.schemas.Script as JSON).
    script: dict[str, Any] | None = None
    problem: str | None = None
    bound: bool = False


def text_refusal(text: str, channel: Channel) -> str | None:
    """Why a rendered text cannot be sent on this channel, if it cannot."""
    limit = MAX_SMS_CHARS if channel is Channel.sms else MAX_TTS_CHARS
    if not text or len(text) > limit:
        return f"the rendered text is {len(text)} characters (1 to {limit})"
    return None


async def render_contact(
    templates: TemplatePool, notification: Notification, campaign: Campaign | None
) -> Rendered:
    """The texts the contact's next attempt needs and has not yet got; empty if none. (Read
    with the notification before its claim, which takes the text only if nothing changed.)"""
    if campaign is None:
        return Rendered()
    variables = notification.variables or {}
    try:
        if notification.on_fallback:
            if notification.fallback_text is not None:
                return Rendered()
            fallback = CampaignPolicy.model_validate(campaign.policy).sms_fallback
            if fallback is None:
                return Rendered()
            text = await templates.render(fallback.template, variables)
            refusal = text_refusal(text, Channel.sms)
            if refusal is not None:
                return Rendered(problem=f"sms_fallback: {refusal}")
            return Rendered(fallback_text=text)
        if campaign.script is not None and notification.script is None:
            return await _render_script(templates, campaign.script, variables)
        if campaign.template is None or notification.text is not None:
            return Rendered()
        text = await templates.render(campaign.template, variables)
    except RenderFailed as exc:
        where = "sms_fallback template" if notification.on_fallback else "template"
        return Rendered(problem=f"{where}: {exc.reason}", bound=exc.bound)
    except ValidationError as exc:
        return Rendered(problem=f"the campaign is no longer valid: {exc}")
    refusal = text_refusal(text, campaign.channel)
    if refusal is not None:
        return Rendered(problem=f"template: {refusal}")
    return Rendered(text=text)


async def _render_script(
    templates: TemplatePool, source: dict[str, Any], variables: dict[str, str]
) -> Rendered:
    """The campaign's script with each text rendered for this contact."""
    script = Script.model_validate(source)
    texts: dict[str, str] = {}
    for where, template in script.texts():
        try:
            text = await templates.render(template, variables)
        except RenderFailed as exc:
            return Rendered(problem=f"script {where}: {exc.reason}", bound=exc.bound)
        refusal = text_refusal(text, Channel.sms if where == "voicemail.sms" else Channel.tts)
        if refusal is not None:
            return Rendered(problem=f"script {where}: {refusal}")
        texts[where] = text
    try:
        return Rendered(script=script.with_texts(texts).model_dump(mode="json", exclude_none=True))
    except ValidationError as exc:
        return Rendered(problem=f"script: {exc}")


async def template_refusals(templates: TemplatePool, body: CampaignCreate) -> dict[str, str]:
    """Per field, a template that fails whatever the contact: rendered once with a stand-in for
    each variable, it ran past its budget or was refused by the sandbox. (Problems that depend
    on a contact's data are that contact's, reported when it is dialled.)"""
    sources = {"template": body.template}
    if body.script is not None:
        sources.update((f"script.{where}", text) for where, text in body.script.texts())
    if body.policy.sms_fallback is not None:
        sources["policy.sms_fallback.template"] = body.policy.sms_fallback.template
    refusals: dict[str, str] = {}
    for field, source in sources.items():
        if source is None:
            continue
        sample = {name: "test" for name in template_variables(source)}
        try:
            await templates.render(source, sample)
        except RenderFailed as exc:
            if exc.kind != "error":
                refusals[field] = exc.reason
    return refusals
