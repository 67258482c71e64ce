"""Request and response bodies of /v1/notifications."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from dialer.audio.refs import recording_or_audio
from dialer.bounds import MAX_ID, STORED, Moment
from dialer.flows.placement import script_placement
from dialer.models import Attempt, Notification
from dialer.payloads import AttemptFacts, NotificationFacts
from dialer.providers import channel_refusal, default_lang, recording_refusal
from dialer.scheduling.policies import RetryPolicy
from dialer.scheduling.timing import parse_offset
from dialer.scripts.schemas import Script
from dialer.scripts.single import OneMessage
from dialer.sms import MAX_SMS_CHARS
from dialer.vocabulary import Channel, Outcome

__all__ = [
    "MAX_TTS_CHARS",
    "AttemptPublic",
    "NotificationCreate",
    "NotificationPublic",
    "ReminderCreate",
    "Reschedule",
]

MAX_TTS_CHARS = 1000
FallbackOutcome = Literal["no_answer", "busy", "failed", "voicemail"]
_FALLBACK_ON: list[FallbackOutcome] = ["no_answer", "busy", "failed", "voicemail"]


class SmsFallback(BaseModel):
    """A text sent, once, when the calls end with one of `on`: one more attempt of the same
    notification, not counted against policy.max_attempts."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_SMS_CHARS)
    on: list[FallbackOutcome] = Field(default_factory=lambda: list(_FALLBACK_ON), min_length=1)


class NotificationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    channel: Channel
    provider: Literal["xoxzo", "voxology"] = "xoxzo"
    to: str = Field(min_length=1, max_length=32)
    from_: str = Field(alias="from", min_length=1, max_length=32)
    text: str | None = Field(None, min_length=1, max_length=MAX_SMS_CHARS)
    lang: Literal["ja", "en"] | None = None
    recording_url: AnyHttpUrl | None = None
    # Instead of recording_url: an audio of the library (POST /v1/audio).
    audio_id: int | None = Field(None, ge=1, le=MAX_ID)
    # Conference: the one or two people joined with `to`.
    participants: list[str] | None = Field(None, min_length=1, max_length=2)
    policy: RetryPolicy = Field(default_factory=lambda: RetryPolicy())
    expires_at: Moment | None = None
    # When to send: an instant with an offset, or the person's own local time without one.
    send_at: Moment | None = None
    # The person's IANA time zone, where their number does not settle it.
    timezone: str | None = Field(None, max_length=64)
    # A registered webhook endpoint (POST /v1/webhooks) for this notification's events.
    webhook_url: AnyHttpUrl | None = None
    sms_fallback: SmsFallback | None = None
    # What the call says and asks (dialer.scripts), instead of `text` or `recording_url`: on
    # Voxology for channels voice_flow and tts; on Xoxzo only say steps (one tts call) or one
    # play step (one playback).
    script: Script | None = None

    @model_validator(mode="after")
    def _message_matches_channel(self) -> Self:
        refusal = channel_refusal(self.provider, self.channel)
        if refusal is not None:
            raise ValueError(refusal)
        self.recording_url = recording_or_audio(self.recording_url, self.audio_id)
        if self.script is not None:
            self._take_script(self.script)
        channel = self.channel.value
        if self.channel is Channel.sms:
            if self.text is None:
                raise ValueError("text is required for channel sms")
            if self.recording_url is not None or self.lang is not None:
                raise ValueError("channel sms takes text only, not recording_url or lang")
        elif self.script is not None:
            pass  # the script holds the message (script_placement checked its channel)
        elif self.channel is Channel.tts:
            if self.text is None:
                raise ValueError("text is required for channel tts")
            if self.recording_url is not None:
                raise ValueError("recording_url is for channel playback, not tts")
        elif self.channel is Channel.playback:
            if self.recording_url is None:
                raise ValueError("recording_url is required for channel playback")
            if self.text is not None:
                raise ValueError("text is for channel tts, not playback")
        elif self.channel is Channel.conference:
            if self.participants is None:
                raise ValueError("participants is required for channel conference")
            if self.text is not None or self.recording_url is not None:
                raise ValueError(
                    "channel conference plays only its guidance: no text, recording_url"
                )
            if self.policy.max_attempts != 1:
                # Another round would ring again the people who answered the first.
                raise ValueError("a conference is dialled once: policy.max_attempts must be 1")
        elif (self.text is None) == (self.recording_url is None):
            raise ValueError(f"channel {channel} takes text or recording_url, exactly one")
        if self.participants is not None and self.channel is not Channel.conference:
            raise ValueError(f"participants is for channel conference, not {channel}")
        if self.recording_url is not None:
            refusal = recording_refusal(self.provider, self.recording_url.scheme)
            if refusal is not None:
                raise ValueError(refusal)
        speaks = self.text is not None or self.participants is not None or self.script is not None
        if self.channel.is_voice and speaks:
            self.lang = self.lang or default_lang(self.provider)
        if self.expires_at is not None and self.expires_at.tzinfo is None:
            raise ValueError("expires_at needs a time zone offset")
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        if self.sms_fallback is not None:
            if not self.channel.is_voice or self.channel is Channel.conference:
                raise ValueError(f"sms_fallback follows a call to one person, not {channel}")
            self.policy.fallback_on = [Outcome(name) for name in self.sms_fallback.on]
        elif self.policy.fallback_on:
            raise ValueError("policy.fallback_on needs sms_fallback, the text to send")
        return self

    def _take_script(self, script: Script) -> None:
        if self.text is not None or self.recording_url is not None:
            raise ValueError("a script holds what the call says: no text or recording_url")
        self.lang = self.lang or script.lang
        leave = Outcome.voicemail not in self.policy.retry_on
        placed = script_placement(
            self.provider, self.channel, script, self.lang, leave_voicemail=leave
        )
        if isinstance(placed, OneMessage):
            self.script = None
            self.text = placed.text
            self.recording_url = placed.recording_url


class ReminderCreate(NotificationCreate):
    """Reminders of an appointment: one notification per offset before it, each kept to the
    calling window (09:00-20:00 in the person's zone unless the policy names another) and
    never sent at or after the appointment itself."""

    appointment_at: Moment
    remind_before: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=5)

    @model_validator(mode="after")
    def _reminder_fields(self) -> Self:
        if self.send_at is not None:
            raise ValueError("a reminder's send times come from appointment_at and remind_before")
        for offset in self.remind_before:
            parse_offset(offset)
        if len(set(self.remind_before)) != len(self.remind_before):
            raise ValueError("remind_before repeats an offset")
        if self.policy.window_start is None:
            self.policy.window_start, self.policy.window_end = time(9, 0), time(20, 0)
        return self


class AttemptPublic(AttemptFacts):
    # Set where it differs from the notification's: the text of an SMS fallback.
    channel: Channel | None
    # The provider bills after the end and its charge is still to be read (Voxology).
    cost_pending: bool = False
    parts: int | None
    recipient: str | None
    conference_id: str | None
    created_at: datetime
    # When its request was cleared to leave; never set, it certainly rang nobody.
    sent_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptPublic:
        public = cls.model_validate(attempt, from_attributes=True)
        public.cost_pending = attempt.cost_due_at is not None
        return public


class NotificationPublic(NotificationFacts):
    provider: str
    to: str = Field(validation_alias="to_number")
    from_: str = Field(validation_alias="from_number", serialization_alias="from")
    text: str | None
    lang: str | None
    recording_url: str | None
    # Its call script as stored: a campaign contact's with its texts rendered for it.
    script: dict[str, Any] | None = None
    participants: list[str] | None
    policy: RetryPolicy
    attempts_made: int
    due_at: datetime
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptPublic]

    @classmethod
    def of(cls, notification: Notification, attempts: list[Attempt]) -> NotificationPublic:
        return cls.model_validate(
            {**notification.model_dump(), "attempts": [AttemptPublic.of(a) for a in attempts]},
            context=STORED,
        )


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    send_at: Moment
