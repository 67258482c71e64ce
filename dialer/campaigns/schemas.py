"""Request and response bodies of /v1/campaigns, and the schedule and policy they carry."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dialer.bounds import STORED, LocalTime, Moment, is_stored
from dialer.campaigns.counts import Counts, tallies
from dialer.lifecycle import RetryPolicy
from dialer.models import Campaign
from dialer.pacing.limiter import Pace
from dialer.providers import channel_refusal, default_lang, recording_refusal
from dialer.sms import MAX_SMS_CHARS
from dialer.templating import TemplateProblem, template_variables
from dialer.vocabulary import CampaignStatus, Channel, Outcome, PauseKind

__all__ = [
    "CampaignCreate",
    "CampaignPolicy",
    "CampaignPublic",
    "EstimatePublic",
    "OutcomeRetry",
    "PacePublic",
    "Schedule",
    "SmsFallback",
]

RetriedOutcome = Literal["no_answer", "busy", "failed", "voicemail"]


class Schedule(BaseModel):
    """When contacts may be called: between start and end, on these weekdays, inside the daily
    window in each recipient's own time zone, never on a holiday."""

    model_config = ConfigDict(extra="forbid")

    start_at: Moment | None = None
    end_at: Moment | None = None
    # 0 is Monday.
    weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6], min_length=1, max_length=7
    )
    window_start: LocalTime = time(9, 0)
    window_end: LocalTime = time(20, 0)
    holidays: list[date] = Field(default_factory=list, max_length=1000)
    # For numbers whose zone the number itself does not settle (and no time-zone column).
    timezone: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(not 0 <= day <= 6 for day in days):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return sorted(set(days))

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {zone!r}") from exc
        return zone

    @model_validator(mode="after")
    def _order(self, info: ValidationInfo) -> Self:
        if is_stored(info):
            return self
        for name in ("start_at", "end_at"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise ValueError(f"{name} needs a time zone offset")
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class OutcomeRetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_s: int = Field(1800, ge=0, le=7 * 86400)


_RETRY: dict[RetriedOutcome, OutcomeRetry] = {
    "no_answer": OutcomeRetry(delay_s=1800),
    "busy": OutcomeRetry(delay_s=600),
    "failed": OutcomeRetry(delay_s=1800),
}


_FALLBACK_ON: tuple[RetriedOutcome, ...] = ("no_answer", "busy", "failed")


class SmsFallback(BaseModel):
    """A text sent, once, to a contact whose calls ended with one of these outcomes."""

    model_config = ConfigDict(extra="forbid")

    # Rendered like the campaign's template, from the same CSV columns.
    template: str = Field(min_length=1, max_length=MAX_SMS_CHARS * 4)
    on: list[RetriedOutcome] = Field(default_factory=lambda: list(_FALLBACK_ON), min_length=1)

    @field_validator("template")
    @classmethod
    def _parses(cls, template: str) -> str:
        try:
            template_variables(template)
        except TemplateProblem as exc:
            raise ValueError(str(exc)) from exc
        return template


class CampaignPolicy(BaseModel):
    """How often and when a contact is tried again, by outcome."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(3, ge=1, le=10)
    retry: dict[RetriedOutcome, OutcomeRetry] = Field(default_factory=lambda: dict(_RETRY))
    backoff: Literal["fixed", "exponential"] = "fixed"
    # leave: a machine gets the message and the contact counts as delivered;
    # retry: hang up on a machine (Voxology detects it) and call again by the voicemail rule.
    voicemail: Literal["leave", "retry"] = "leave"
    # Calls of this campaign in flight at once; None: only the provider's limits apply.
    max_concurrent: int | None = Field(None, ge=1, le=10_000)
    # Requests per second for this campaign, under its provider account's own limit.
    max_rate: float | None = Field(None, gt=0, le=1000)
    # Calls only: after the last call, an SMS to a contact the calls did not reach.
    sms_fallback: SmsFallback | None = None
    # Voxology calls: seconds a call rings before it is unanswered, and the longest it may last.
    ring_timeout_s: int = Field(30, ge=20, le=240)
    max_call_time_s: int = Field(600, ge=60, le=172_800)

    def retry_policy(self) -> RetryPolicy:
        """The per-notification policy every contact of the campaign carries."""
        retried = {Outcome(name): rule for name, rule in self.retry.items()}
        if self.voicemail == "leave":
            retried.pop(Outcome.voicemail, None)
        return RetryPolicy(
            max_attempts=self.max_attempts,
            retry_on=list(retried),
            retry_delay_s=0,
            outcome_delay_s={outcome: rule.delay_s for outcome, rule in retried.items()},
            backoff=self.backoff,
            fallback_on=[Outcome(name) for name in self.sms_fallback.on]
            if self.sms_fallback
            else [],
            ring_timeout_s=self.ring_timeout_s,
            max_call_time_s=self.max_call_time_s,
        )

    def template_variables(self) -> frozenset[str]:
        """The CSV columns the fallback text needs, beyond the campaign template's."""
        if self.sms_fallback is None:
            return frozenset()
        return template_variables(self.sms_fallback.template)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=200)
    provider: Literal["xoxzo", "voxology"] = "xoxzo"
    channel: Channel
    from_: str = Field(alias="from", min_length=1, max_length=32)
    template: str | None = Field(None, min_length=1, max_length=MAX_SMS_CHARS * 4)
    recording_url: AnyHttpUrl | None = None
    lang: Literal["ja", "en"] | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    policy: CampaignPolicy = Field(default_factory=CampaignPolicy)
    default_region: str = Field("JP", min_length=2, max_length=2)
    # A registered webhook endpoint (POST /v1/webhooks) for the campaign's events.
    webhook_url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _message_matches_channel(self) -> Self:
        refusal = channel_refusal(self.provider, self.channel)
        if refusal is not None:
            raise ValueError(refusal)
        if self.channel is Channel.conference:
            raise ValueError("a campaign sends one message to each contact: no conferences")
        if self.channel is Channel.playback:
            if self.recording_url is None or self.template is not None:
                raise ValueError("channel playback takes recording_url, not template")
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


class CampaignPublic(BaseModel):
    id: int
    name: str
    provider: str
    channel: Channel
    from_: str = Field(validation_alias="from_number", serialization_alias="from")
    template: str | None
    recording_url: str | None
    lang: str | None
    schedule: Schedule
    policy: CampaignPolicy
    default_region: str
    status: CampaignStatus
    pause_reason: str | None
    pause_kind: PauseKind | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int] = Field(default_factory=dict)
    outcomes: dict[str, int] = Field(default_factory=dict)
    # Key presses on Voxology flows: {"confirmed": n, "opted_out": n}.
    answers: dict[str, int] = Field(default_factory=dict)
    progress: float = 0.0
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
