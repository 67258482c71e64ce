"""How often and when a person is tried again: a notification's retry policy, and the campaign
policy that every contact of a campaign carries as one."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from dialer.bounds import LocalTime, is_stored
from dialer.sms import MAX_SMS_CHARS
from dialer.templating import TemplateProblem, template_variables
from dialer.vocabulary import Outcome

__all__ = ["CampaignPolicy", "OutcomeRetry", "RetriedOutcome", "RetryPolicy", "SmsFallback"]


class RetryPolicy(BaseModel):
    """How many times a person may be called for one message, and when again."""

    max_attempts: int = Field(1, ge=1, le=10)
    retry_on: list[Outcome] = Field(
        default_factory=lambda: [Outcome.no_answer, Outcome.busy, Outcome.failed],
        max_length=len(Outcome),
    )
    retry_delay_s: int = Field(300, ge=0, le=7 * 86400)
    # A delay per outcome where it differs from retry_delay_s (campaigns set these).
    outcome_delay_s: dict[Outcome, int] = Field(default_factory=dict)
    backoff: Literal["fixed", "exponential"] = "fixed"
    # Once the calls are over with one of these outcomes, the notification sends its
    # fallback text as an SMS: one more attempt, not counted against max_attempts.
    fallback_on: list[Outcome] = Field(default_factory=list, max_length=len(Outcome))
    # A daily calling window in the person's own time zone (reminders have one), and what a
    # send time outside it does: wait for the window to open, or expire.
    window_start: LocalTime | None = None
    window_end: LocalTime | None = None
    outside_window: Literal["move", "expire"] = "move"
    # Voxology calls: how long a call rings before it counts as unanswered, and how long it
    # may last once answered (Voxology's own default is 48 hours).
    ring_timeout_s: int = Field(30, ge=20, le=240)
    max_call_time_s: int = Field(600, ge=60, le=172_800)

    @model_validator(mode="after")
    def _window_whole(self, info: ValidationInfo) -> Self:
        if is_stored(info):
            return self
        if (self.window_start is None) != (self.window_end is None):
            raise ValueError("window_start and window_end go together")
        if self.window_start and self.window_end and self.window_start >= self.window_end:
            raise ValueError("window_start must be before window_end")
        return self


RetriedOutcome = Literal["no_answer", "busy", "failed", "voicemail"]


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
