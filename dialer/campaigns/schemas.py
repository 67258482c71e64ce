"""Request and response bodies of /v1/campaigns, and the schedule and policy they carry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from dialer.audio.refs import recording_or_audio
from dialer.bounds import MAX_ID, STORED
from dialer.campaigns.counts import Counts, tallies
from dialer.flows.placement import script_placement
from dialer.models import Campaign
from dialer.pacing.limiter import Pace
from dialer.payloads import CampaignFacts
from dialer.providers import channel_refusal, default_lang, recording_refusal
from dialer.scheduling.policies import CampaignPolicy
from dialer.scheduling.schedule import Schedule
from dialer.scripts.schemas import Script
from dialer.scripts.single import OneMessage
from dialer.sms import MAX_SMS_CHARS
from dialer.templating import TemplateProblem, template_variables
from dialer.vocabulary import Channel, PauseKind

__all__ = [
    "CampaignCreate",
    "CampaignPublic",
    "ContactIn",
    "ContactsIn",
    "EstimatePublic",
    "PacePublic",
    "PauseBody",
]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    provider: Literal["xoxzo", "voxology"] = "xoxzo"
    channel: Channel
    from_: str = Field(alias="from", min_length=1, max_length=32)
    template: str | None = Field(None, min_length=1, max_length=MAX_SMS_CHARS * 4)
    recording_url: AnyHttpUrl | None = None
    # Instead of recording_url: an audio of the library (POST /v1/audio).
    audio_id: int | None = Field(None, ge=1, le=MAX_ID)
    lang: Literal["ja", "en"] | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    policy: CampaignPolicy = Field(default_factory=CampaignPolicy)
    default_region: str = Field("JP", min_length=2, max_length=2)
    # A registered webhook endpoint (POST /v1/webhooks) for the campaign's events.
    webhook_url: AnyHttpUrl | None = None
    # What each call says and asks (dialer.scripts), its texts templates over the contact's
    # columns, instead of `template` or `recording_url`: on Voxology for channels voice_flow
    # and tts; on Xoxzo only say steps (one tts call) or one play step (one playback).
    script: Script | None = None

    @model_validator(mode="after")
    def _message_matches_channel(self) -> Self:
        refusal = channel_refusal(self.provider, self.channel)
        if refusal is not None:
            raise ValueError(refusal)
        self.recording_url = recording_or_audio(self.recording_url, self.audio_id)
        if self.script is not None:
            self._take_script(self.script)
        if self.channel is Channel.conference:
            raise ValueError("a campaign sends one message to each contact: no conferences")
        if self.channel is Channel.playback:
            if self.recording_url is None or self.template is not None:
                raise ValueError("channel playback takes recording_url, not template")
        elif self.script is not None:
            pass  # the script holds the message
        elif self.channel is Channel.voice_flow:
            if (self.template is None) == (self.recording_url is None):
                raise ValueError("channel voice_flow takes template or recording_url, exactly one")
        elif self.template is None or self.recording_url is not None:
            raise ValueError(f"channel {self.channel.value} takes template, not recording_url")
        if self.recording_url is not None:
            refusal = recording_refusal(self.provider, self.recording_url.scheme)
            if refusal is not None:
                raise ValueError(refusal)
        if self.template is not None:
            try:
                template_variables(self.template)
            except TemplateProblem as exc:
                raise ValueError(f"template: {exc}") from exc
        if self.channel.is_voice:
            self.lang = self.lang or default_lang(self.provider)
        elif self.lang is not None:
            raise ValueError("lang is for calls, not sms")
        if self.policy.voicemail == "retry" and self.channel is not Channel.voice_flow:
            raise ValueError("policy.voicemail 'retry' needs channel voice_flow (detection)")
        if self.policy.sms_fallback is not None:
            if not self.channel.is_voice:
                raise ValueError("policy.sms_fallback follows calls: channel sms has none")
            refusal = channel_refusal(self.provider, Channel.sms)
            if refusal is not None:
                raise ValueError(f"policy.sms_fallback: {refusal}")
        return self

    def _take_script(self, script: Script) -> None:
        if self.template is not None or self.recording_url is not None:
            raise ValueError("a script holds what the calls say: no template or recording_url")
        for where, text in script.texts():
            try:
                template_variables(text)
            except TemplateProblem as exc:
                raise ValueError(f"script.{where}: {exc}") from exc
        self.lang = self.lang or script.lang
        leave = self.policy.voicemail != "retry"
        placed = script_placement(
            self.provider, self.channel, script, self.lang, leave_voicemail=leave
        )
        if isinstance(placed, OneMessage):
            self.script = None
            self.template = placed.text
            self.recording_url = placed.recording_url


class TestCall(BaseModel):
    """POST /v1/campaigns/{id}/test-call: the number the test call rings."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=32)


class PacePublic(BaseModel):
    """A limit the campaign's requests keep to, as it stands: the rate now, what it was set to,
    the ceiling a 429 taught it, and how recently the provider throttled."""

    limit: str
    configured_per_s: float
    rate_per_s: float
    ceiling_per_s: float
    responses_429: int
    last_429_s_ago: float | None
    held_for_s: float

    @classmethod
    def of(cls, pace: Pace) -> PacePublic:
        return cls(
            limit=pace.name,
            configured_per_s=pace.configured,
            rate_per_s=round(pace.rate, 3),
            ceiling_per_s=round(pace.ceiling, 3),
            responses_429=pace.throttled,
            last_429_s_ago=round(pace.last_429_ago_s, 1)
            if pace.last_429_ago_s is not None
            else None,
            held_for_s=round(pace.held_for_s, 3),
        )


class CampaignPublic(CampaignFacts):
    provider: str
    channel: Channel
    from_: str = Field(validation_alias="from_number", serialization_alias="from")
    template: str | None
    recording_url: str | None
    script: dict[str, Any] | None = None
    lang: str | None
    schedule: Schedule
    policy: CampaignPolicy
    default_region: str
    pause_reason: str | None
    pause_kind: PauseKind | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # GET /v1/campaigns/{id} only: the account's limit, then the campaign's own if it has one.
    pacing: list[PacePublic] = Field(default_factory=list)

    @classmethod
    def of(cls, campaign: Campaign, counts: Counts) -> CampaignPublic:
        return cls.model_validate({**campaign.model_dump(), **tallies(counts)}, context=STORED)


class EstimatePublic(BaseModel):
    """What a campaign would cost from here, against its provider account, before anyone
    presses start: in the provider's own unit (Xoxzo credits, Voxology US dollars)."""

    campaign_id: int
    provider: str
    channel: Channel
    unit: str
    contacts_to_dial: int
    # One attempt each; and the most the policy allows (every retry, and the fallback text).
    attempts_expected: int
    attempts_at_most: int
    cost_per_attempt: float
    basis: str
    estimated_cost: float
    estimated_cost_at_most: float
    minimum: float
    # None when it could not be read; `balance_problem` says why.
    balance: float | None
    balance_problem: str | None
    start_allowed: bool
    reason: str | None


class ContactIn(BaseModel):
    phone: str = Field(min_length=1, max_length=64)
    variables: dict[str, str | int | float] = Field(default_factory=dict, max_length=100)
    timezone: str | None = Field(None, max_length=64)


class ContactsIn(BaseModel):
    """Contacts as JSON, for systems that hold them already; a file is better past 10,000."""

    contacts: list[ContactIn] = Field(min_length=1, max_length=10_000)


class PauseBody(BaseModel):
    reason: str = Field("paused by API", min_length=1, max_length=500)
