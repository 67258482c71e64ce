"""Settings from the environment: DIALER_* for the service, XOXZO_* and VOXOLOGY_* for providers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from dialer.clock import CLOCK_FILE_VARIABLE

__all__ = [
    "PLACEHOLDER_SECRETS",
    "ProviderLimits",
    "Settings",
    "SettingsRefused",
    "get_settings",
    "weak_secret",
]

# Safe only on a developer's machine against the sandbox; refused in production. (The sandbox's
# own defaults are among them: dialer.sandbox.state.SandboxConfig.)
PLACEHOLDER_SECRETS = frozenset(
    {
        "change-me",
        "sandbox-sid",
        "sandbox-token",
        "sandbox-voxology-key",
        "sandbox-account:sandbox-secret",
        "",
    }
)
# A secret that signs tokens and webhooks: long, and not one character repeated.
MIN_SECRET_CHARS = 32
MIN_DISTINCT_CHARS = 12


class ProviderLimits(BaseModel):
    """What one provider account allows: requests per second by kind, and calls live at once.
    Neither provider publishes its figures; a 429 teaches the limiter the real ones."""

    model_config = ConfigDict(extra="forbid")

    calls: float = Field(20.0, gt=0)
    sms: float = Field(20.0, gt=0)
    status: float = Field(20.0, gt=0)
    provisioning: float = Field(1.0, gt=0)
    live_calls: int | None = Field(None, ge=1)


ChannelName = Literal["tts", "playback", "voice_flow", "conference", "sms"]


class CreditRules(BaseModel):
    """One provider account's money, in that provider's own unit: the balance campaigns keep
    above (`minimum`), and what one attempt is taken to cost per channel until a campaign's own
    attempts say otherwise. Set only what differs from the provider's defaults."""

    model_config = ConfigDict(extra="forbid")

    minimum: float | None = Field(None, ge=0)
    per_attempt: dict[ChannelName, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)


@dataclass(frozen=True)
class CreditTerms:
    unit: str
    minimum: float
    per_attempt: Mapping[str, float]


# Xoxzo counts credits (its 403 names the minimum it wants, 20 to 50 over the years); Voxology
# bills US dollars, about 2 cents a started minute of a call and half a cent an SMS part.
DEFAULT_CREDIT = {
    "xoxzo": CreditTerms(
        "credits",
        50.0,
        {"tts": 10.0, "playback": 10.0, "voice_flow": 10.0, "conference": 20.0, "sms": 10.0},
    ),
    "voxology": CreditTerms(
        "USD",
        1.0,
        {"tts": 0.05, "playback": 0.05, "voice_flow": 0.05, "conference": 0.1, "sms": 0.01},
    ),
}


# What recording a provider's answer may take after it comes (a dial's last step in its job).
RECORD_ANSWER_S = 1.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALER_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///dialer.db"
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr("change-me")
    default_region: str = "JP"

    xoxzo_sid: str = Field("sandbox-sid", validation_alias="XOXZO_SID")
    xoxzo_auth_token: SecretStr = Field(
        SecretStr("sandbox-token"), validation_alias="XOXZO_AUTH_TOKEN"
    )
    xoxzo_api_url: str = Field("https://api.xoxzo.com", validation_alias="XOXZO_API_URL")
    voxology_api_key: SecretStr | None = Field(None, validation_alias="VOXOLOGY_API_KEY")
    voxology_basic_auth: SecretStr | None = Field(None, validation_alias="VOXOLOGY_BASIC_AUTH")
    voxology_api_url: str = Field("https://api.voxolo.gy/v1", validation_alias="VOXOLOGY_API_URL")
    # Where Voxology asks when our call-flow endpoint fails (unset: the same endpoint again),
    # and whether a number already configured for another endpoint may be pointed at ours.
    voxology_failover_url: str | None = None
    voxology_take_over_numbers: bool = False

    # What a DIN answers a caller we never called from it, unless the DIN has its own action.
    din_default_action: str = 'say en "Thank you for calling. Goodbye."'

    provider_timeout_s: float = 10.0
    job_timeout_s: float = 60.0
    # A worker process's own /metrics (Prometheus), on this port and address; unset: none.
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # "module:function" building the arq worker (dialer.workers.make_worker calls it).
    worker_factory: str = Field("jobs.worker:make_worker", pattern=r"^[\w.]+:\w+$")
    hopper_batch: int = 200
    # Due notifications of one account per dial job: claimed, cleared and recorded together.
    dial_batch: int = Field(50, ge=1, le=1000)
    # A process's dial-path writes per transaction (dialer.group_commit). More saves commits
    # but holds the write lock longer: measured, 1 keeps sent-to-final lowest on both databases.
    write_group: int = Field(1, ge=1, le=256)
    # First status check after a call is accepted, then every poll_interval_s until final.
    poll_interval_s: float = 60.0
    # A `dialing` attempt this old has lost its worker mid-POST and must be reconciled.
    ambiguous_after_s: float = 120.0
    # Xoxzo has no search by tag, so an attempt with no callback by then is closed as unknown.
    reconcile_deadline_s: float = 3600.0
    # Per provider, as JSON: {"xoxzo": {"calls": 20, "sms": 10, "live_calls": 100}}.
    provider_limits: dict[str, ProviderLimits] = Field(default_factory=dict)
    # A dial job waits this long at most for its slot; beyond it, the hopper brings it back.
    # Longer than the hopper's lookahead (2 s), so that a batch it hands out finds its slots.
    pacing_max_wait_s: float = 2.5
    # Per provider, as JSON: {"voxology": {"minimum": 5, "per_attempt": {"sms": 0.0075}}}; over
    # DEFAULT_CREDIT. A minimum the provider names itself (Xoxzo's 403) wins over both.
    credit: dict[str, CreditRules] = Field(default_factory=dict)
    credit_check_interval_s: float = Field(60.0, gt=0)
    # Where events go when a notification or campaign names no webhook of its own.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Webhooks to loopback, private or link-local addresses: refused unless this is set (a
    # receiver on the same machine or network, the tests).
    webhook_allow_private: bool = False
    # Production wants an https public URL (callbacks carry tokens); set this behind a proxy
    # that ends TLS and forwards plain http.
    allow_http_public_url: bool = False
    # Request bodies are refused (413) past these sizes, before they are read; contact uploads
    # have their own limit.
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1024)
    # Users' templates render in child processes: at most this long and this much memory each.
    template_budget_s: float = Field(2.0, gt=0, le=30)
    template_memory_mb: int = Field(256, ge=32, le=8192)
    template_processes: int = Field(2, ge=1, le=32)
    # The time zone the console shows times in (an IANA name: Asia/Tokyo).
    console_timezone: str = "UTC"
    # The audio library's files (POST /v1/audio), and what one may be.
    audio_dir: Path = Path("audio")
    audio_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    audio_max_s: float = Field(600.0, gt=0)

    def account_credential(self, provider: str) -> str:
        """What names the provider account (its limits are the account's, shared by every
        deployment on it); never logged or stored, only digested."""
        voxology = self.voxology_api_key.get_secret_value() if self.voxology_api_key else ""
        return {"voxology": voxology}.get(provider) or self.xoxzo_sid

    def limits_for(self, provider: str) -> ProviderLimits:
        return self.provider_limits.get(provider) or ProviderLimits()

    def credit_for(self, provider: str) -> CreditTerms:
        terms = DEFAULT_CREDIT.get(provider) or DEFAULT_CREDIT["xoxzo"]
        rules = self.credit.get(provider) or CreditRules()
        return CreditTerms(
            unit=terms.unit,
            minimum=terms.minimum if rules.minimum is None else rules.minimum,
            per_attempt={**terms.per_attempt, **{str(k): v for k, v in rules.per_attempt.items()}},
        )

    @field_validator("console_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise ValueError(f"not a time zone: {value!r} (an IANA name: Asia/Tokyo)") from exc
        return value

    @field_validator("din_default_action")
    @classmethod
    def _din_action_in_grammar(cls, value: str) -> str:
        from dialer.din.actions import parse_action

        return parse_action(value).line()

    @model_validator(mode="after")
    def _jobs_outlast_their_requests(self) -> Settings:
        # A dial waits up to its slot, then the provider's answer, then records it; a job cut
        # off by its timeout meanwhile leaves a call that may have rung (dialer.dispatch).
        needs = self.pacing_max_wait_s + self.provider_timeout_s + RECORD_ANSWER_S
        if self.job_timeout_s < needs:
            raise ValueError(
                f"DIALER_JOB_TIMEOUT_S ({self.job_timeout_s:g}) must be at least "
                f"DIALER_PACING_MAX_WAIT_S + DIALER_PROVIDER_TIMEOUT_S + {RECORD_ANSWER_S:g} "
                f"({needs:g}), so that a job hears the answer to every request it sends"
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs_its_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("DIALER_WEBHOOK_URL needs DIALER_WEBHOOK_SECRET to sign with")
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.env != "production":
            return self
        voxology_key = self.voxology_api_key.get_secret_value() if self.voxology_api_key else None
        basic = self.voxology_basic_auth.get_secret_value() if self.voxology_basic_auth else None
        unsafe = [
            name
            for name, value in (
                ("DIALER_SECRET_KEY", self.secret_key.get_secret_value()),
                ("XOXZO_SID", self.xoxzo_sid),
                ("XOXZO_AUTH_TOKEN", self.xoxzo_auth_token.get_secret_value()),
                ("VOXOLOGY_API_KEY", voxology_key),
                ("VOXOLOGY_BASIC_AUTH", basic),
            )
            if value is not None and value in PLACEHOLDER_SECRETS
        ]
        if unsafe:
            raise ValueError(f"placeholder secrets are refused in production: {', '.join(unsafe)}")
        for name, secret in (
            ("DIALER_SECRET_KEY", self.secret_key),
            ("DIALER_WEBHOOK_SECRET", self.webhook_secret),
        ):
            if secret is not None and (why := weak_secret(secret.get_secret_value())):
                raise ValueError(f"{name} {why}")
        if os.environ.get(CLOCK_FILE_VARIABLE):
            raise ValueError(f"{CLOCK_FILE_VARIABLE} moves the clock: for tests, not production")
        insecure = [
            name
            for name, url, allowed in (
                ("DIALER_PUBLIC_URL", self.public_url, self.allow_http_public_url),
                ("XOXZO_API_URL", self.xoxzo_api_url, False),
                ("VOXOLOGY_API_URL", self.voxology_api_url, False),
                ("DIALER_VOXOLOGY_FAILOVER_URL", self.voxology_failover_url, False),
                ("DIALER_WEBHOOK_URL", self.webhook_url, self.webhook_allow_private),
            )
            if url is not None and not url.startswith("https://") and not allowed
        ]
        if insecure:
            raise ValueError(
                f"https is required in production: {', '.join(insecure)} (a sandbox or a "
                "plain-http URL; DIALER_ALLOW_HTTP_PUBLIC_URL=true behind a TLS proxy)"
            )
        return self

    @property
    def async_database_url(self) -> str:
        return to_driver_url(self.database_url, asynchronous=True)

    @property
    def sync_database_url(self) -> str:
        return to_driver_url(self.database_url, asynchronous=False)


def to_driver_url(url: str, *, asynchronous: bool) -> str:
    """Give a plain sqlite:// or postgresql:// URL the driver each side of the code uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}" if asynchronous else f"sqlite://{rest}"
    if base in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    raise ValueError(f"unsupported database {base!r}: use sqlite or postgresql")


def weak_secret(value: str) -> str | None:
    """Why a signing secret is too weak, if it is."""
    if len(value) < MIN_SECRET_CHARS:
        return f"must be at least {MIN_SECRET_CHARS} characters in production"
    if len(set(value)) < MIN_DISTINCT_CHARS:
        return f"must have at least {MIN_DISTINCT_CHARS} different characters in production"
    return None


class SettingsRefused(ValueError):
    """Settings that cannot be used, each problem named by its variable; never a value."""


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Pydantic's own text shows the input, and so the secrets: only the reasons here.
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        ]
        raise SettingsRefused("; ".join(problems)) from None
