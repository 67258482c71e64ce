"""SQL tables: campaigns, notifications, their attempts, and API keys. The database is the truth."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from dialer import clock
from dialer.creation import stored_utc
from dialer.vocabulary import (
    AttemptStatus,
    CampaignStatus,
    Channel,
    EventKind,
    EventStatus,
    ImportStatus,
    NotificationStatus,
    OptOutChange,
    Outcome,
    PauseKind,
    Scope,
)

__all__ = [
    "ApiKey",
    "Attempt",
    "Audio",
    "Campaign",
    "CampaignAnswer",
    "CampaignMinute",
    "CampaignTally",
    "ContactImport",
    "Din",
    "DoNotContact",
    "ImportIssue",
    "Notification",
    "NumberAction",
    "OptOutEvent",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "channel_of",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, by the dialer's clock (dialer.clock: the real one unless a test moves it)."""
    return clock.now()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the column, the same on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else stored_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _enum_column(enum: type[StrEnum], length: int = 16) -> sa.Enum:
    # VARCHAR on every database, loaded back as enum members.
    return sa.Enum(
        enum,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


# SQLite only autoincrements an INTEGER PRIMARY KEY, not a BIGINT one.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        # Partial: campaign contacts (millions of rows, no key) stay out of this index.
        sa.Index(
            "uq_notification_idempotency",
            "api_key_id",
            "idempotency_key",
            unique=True,
            postgresql_where=sa.text("idempotency_key IS NOT NULL"),
            sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        ),
        # A campaign calls each number once; API notifications (no campaign) are not limited.
        sa.UniqueConstraint("campaign_id", "to_number", name="uq_notification_campaign_number"),
        sa.Index("ix_notification_status_due_at", "status", "due_at"),
        # The hopper's expiry, every tick: partial, as campaign contacts have no deadline.
        sa.Index(
            "ix_notification_status_expires_at",
            "status",
            "expires_at",
            postgresql_where=sa.text("expires_at IS NOT NULL"),
            sqlite_where=sa.text("expires_at IS NOT NULL"),
        ),
        # results.csv reads a campaign's contacts in id order, a page at a time from the last.
        sa.Index("ix_notification_campaign_id_id", "campaign_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    # Indexed by uq_notification_campaign_number, which starts with it.
    campaign_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    api_key_id: int | None = Field(default=None, foreign_key="api_key.id", sa_type=BigId)
    idempotency_key: str | None = Field(default=None, max_length=255)
    request_hash: str | None = Field(default=None, max_length=64)

    provider: str = Field(max_length=32)
    channel: Channel = Field(sa_type=_enum_column(Channel))
    to_number: str = Field(max_length=20)
    from_number: str = Field(max_length=20)
    text: str | None = Field(default=None)
    lang: str | None = Field(default=None, max_length=8)
    recording_url: str | None = Field(default=None, max_length=2048)
    # Conference: the people joined with `to_number`, one attempt each per round.
    participants: list[str] | None = Field(default=None, sa_type=sa.JSON)
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Campaign contacts: the upload and its CSV row, the row's other columns (its template
    # variables), and a time zone if the row gave one.
    import_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    row_number: int | None = Field(default=None)
    variables: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    timezone: str | None = Field(default=None, max_length=64)
    # The text sent when the calls end without reaching the person (policy.fallback_on), and
    # whether the notification has moved on to it: its one remaining attempt is that SMS.
    fallback_text: str | None = Field(default=None)
    on_fallback: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Where its events go (an API notification's own; a campaign contact's are its campaign's).
    webhook_id: int | None = Field(default=None, sa_type=sa.BigInteger)

    status: NotificationStatus = Field(
        default=NotificationStatus.queued, sa_type=_enum_column(NotificationStatus)
    )
    outcome: Outcome | None = Field(default=None, sa_type=_enum_column(Outcome))
    # What the person answered on a call (a key press), the latest attempt's that heard one:
    # the label of the first question answered, and every question's (dialer.scripts).
    answer: str | None = Field(default=None, max_length=64)
    answers: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    # A Voxology call's script (dialer.scripts.schemas.Script), its texts rendered.
    script: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    attempts_made: int = 0
    last_error: str | None = Field(default=None)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = _ts(nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = _ts(nullable=True)

    @property
    def recipients(self) -> list[str]:
        """Everyone this notification rings: `to_number`, then any conference participants."""
        return [self.to_number, *(self.participants or [])]


class Campaign(SQLModel, table=True):
    """One message for every contact of a list, under one schedule and one retry policy."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    name: str = Field(max_length=200)
    provider: str = Field(max_length=32)
    channel: Channel = Field(sa_type=_enum_column(Channel))
    from_number: str = Field(max_length=20)
    # A Jinja2 template over each contact's variables (tts, sms, voice_flow), or a recording.
    template: str | None = Field(default=None)
    recording_url: str | None = Field(default=None, max_length=2048)
    lang: str | None = Field(default=None, max_length=8)
    # A Voxology call script (dialer.scripts.schemas.Script) whose texts are templates.
    script: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    # dialer.campaigns.schemas.Schedule and CampaignPolicy, as JSON.
    schedule: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    default_region: str = Field(default="JP", max_length=2)
    status: CampaignStatus = Field(
        default=CampaignStatus.draft, sa_type=_enum_column(CampaignStatus)
    )
    pause_reason: str | None = Field(default=None)
    # Who may resume it: a person (manual), or the credit watcher once the balance is back.
    pause_kind: PauseKind | None = Field(default=None, sa_type=_enum_column(PauseKind))
    webhook_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = _ts(nullable=True)
    finished_at: datetime | None = _ts(nullable=True)
    # When campaign.finished was written: once it had ended and nothing of it was ringing.
    finished_reported_at: datetime | None = _ts(nullable=True)


class ContactImport(SQLModel, table=True):
    """One CSV upload into a campaign, and what became of its rows."""

    __tablename__ = "contact_import"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    campaign_id: int = Field(foreign_key="campaign.id", index=True, sa_type=sa.BigInteger)
    filename: str | None = Field(default=None, max_length=255)
    # Its CSV header: [column as uploaded, the key of its value in a contact's variables], for
    # the columns other than phone, time zone and send time.
    columns: list[list[str]] | None = Field(default=None, sa_type=sa.JSON)
    status: ImportStatus = Field(default=ImportStatus.running, sa_type=_enum_column(ImportStatus))
    rows: int = 0
    imported: int = 0
    duplicate: int = 0
    suppressed: int = 0
    invalid: int = 0
    error: str | None = Field(default=None)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = _ts(nullable=True)


class ImportIssue(SQLModel, table=True):
    """A CSV row that was not imported, and why."""

    __tablename__ = "import_issue"
    # issues.csv reads an import's rows in id order, a page at a time from the last.
    __table_args__ = (sa.Index("ix_import_issue_import_id_id", "import_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    import_id: int = Field(foreign_key="contact_import.id", sa_type=sa.BigInteger)
    row_number: int
    reason: str
    phone: str | None = Field(default=None, max_length=64)


class Attempt(SQLModel, table=True):
    __tablename__ = "attempt"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_id", name="uq_attempt_provider_id"),
        sa.UniqueConstraint("notification_id", "number", name="uq_attempt_number"),
        sa.Index("ix_attempt_status_next_check_at", "status", "next_check_at"),
        # A campaign's latest attempts, newest first, without reading its contacts.
        sa.Index("ix_attempt_campaign_id_id", "campaign_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    notification_id: int = Field(foreign_key="notification.id", index=True, sa_type=sa.BigInteger)
    # Its notification's campaign, if it has one.
    campaign_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    number: int
    provider: str = Field(max_length=32)
    # Set where it differs from the notification's channel: the SMS of a fallback.
    channel: Channel | None = Field(default=None, sa_type=_enum_column(Channel))
    provider_id: str | None = Field(default=None, max_length=128)
    status: AttemptStatus = Field(
        default=AttemptStatus.dialing, sa_type=_enum_column(AttemptStatus)
    )
    provider_status: str | None = Field(default=None, max_length=64)
    outcome: Outcome | None = Field(default=None, sa_type=_enum_column(Outcome))
    error: str | None = Field(default=None)
    cost: float | None = Field(default=None)
    duration_s: int | None = Field(default=None)
    # SMS: how many parts the provider bills the message as.
    parts: int | None = Field(default=None)
    # Voxology flows: the label of the first question answered, and every question's.
    answer: str | None = Field(default=None, max_length=64)
    answers: dict[str, str] | None = Field(default=None, sa_type=sa.JSON)
    # A script's transfer: the number, the call's length (ms) when it began, and its seconds.
    transferred_to: str | None = Field(default=None, max_length=20)
    transfer_start_ms: int | None = Field(default=None, sa_type=sa.BigInteger)
    transfer_s: int | None = Field(default=None)
    # Conference: the participant this attempt rang, and the provider's id for the conference.
    recipient: str | None = Field(default=None, max_length=20)
    conference_id: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When its request was cleared to leave. Unset, the request certainly never left: whoever
    # sets it first (the dial, or the sweeper taking the attempt back) decides which.
    sent_at: datetime | None = _ts(nullable=True)
    started_at: datetime | None = _ts(nullable=True)
    ended_at: datetime | None = _ts(nullable=True)
    next_check_at: datetime | None = _ts(nullable=True)
    # Voxology bills after the call or message has ended: when to read its charge next.
    cost_due_at: datetime | None = _ts(nullable=True, index=True)


def channel_of(notification: Notification, attempt: Attempt) -> Channel:
    """What this attempt sends: the notification's channel, or its fallback's."""
    return attempt.channel or notification.channel


class DoNotContact(SQLModel, table=True):
    """A number never to call or text: everywhere (scope "global") or in one campaign."""

    __tablename__ = "do_not_contact"
    __table_args__ = (sa.UniqueConstraint("scope", "number", name="uq_do_not_contact"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    scope: str = Field(default="global", max_length=32)
    number: str = Field(max_length=20, index=True)
    source: str = Field(max_length=64)
    reason: str | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OptOutEvent(SQLModel, table=True):
    """One change to a do-not-contact list, or one request that changed nothing, kept after
    the entry itself is gone: who asked, how, and when."""

    __tablename__ = "opt_out_event"
    # A provider retrying its callback brings the same message again: recorded once.
    __table_args__ = (
        sa.UniqueConstraint("source", "reference", name="uq_opt_out_event_reference"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    scope: str = Field(default="global", max_length=32)
    number: str = Field(max_length=20, index=True)
    change: OptOutChange = Field(sa_type=_enum_column(OptOutChange))
    source: str = Field(max_length=64)  # api, keypress, sms, ...
    reason: str | None = Field(default=None)
    # The provider's id for what carried the request, e.g. an inbound message's.
    reference: str | None = Field(default=None, max_length=128)
    # When the person asked (the message's own time), and when we wrote it down.
    happened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Din(SQLModel, table=True):
    """A Xoxzo Dial In Number we subscribe to, and what its action server answers by default."""

    __tablename__ = "din"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    din_uid: str = Field(max_length=64, unique=True)
    number: str = Field(max_length=20, index=True)
    # One action line (dialer.din.actions); None: the service-wide default.
    action: str | None = Field(default=None, max_length=1000)
    monthly_cost: float | None = Field(default=None)
    subscribed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    unsubscribed_at: datetime | None = _ts(nullable=True)


class NumberAction(SQLModel, table=True):
    """What one of our Voxology numbers answers a caller we never called from it with: one
    action line (dialer.din.actions), as a Xoxzo DIN's own action."""

    __tablename__ = "number_action"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    number: str = Field(max_length=20, unique=True)
    action: str = Field(max_length=1000)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    scope: Scope = Field(default=Scope.admin, sa_type=_enum_column(Scope))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = _ts(nullable=True)


class WebhookEndpoint(SQLModel, table=True):
    """A client's URL for our events, and the secret their signatures are made with."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    url: str = Field(max_length=2048, unique=True)
    secret: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignMinute(SQLModel, table=True):
    """How many of a campaign's attempts ended in one minute with one outcome: written with the
    attempts' own change (dialer.outbox), read by the console's chart and rate without touching
    the campaign's rows."""

    __tablename__ = "campaign_minute"

    campaign_id: int = Field(primary_key=True, sa_type=sa.BigInteger)
    minute: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    # The attempt's outcome, or its status where it has none (not_sent).
    outcome: str = Field(primary_key=True, max_length=16)
    finals: int


class CampaignTally(SQLModel, table=True):
    """How many of a campaign's contacts are in each status, outcome and answer: kept with
    every change to them (dialer.outbox, the importer, a campaign's start, pause and cancel),
    so that its counts are read without touching its contacts. '' stands for none."""

    __tablename__ = "campaign_tally"

    campaign_id: int = Field(primary_key=True, sa_type=sa.BigInteger)
    status: str = Field(primary_key=True, max_length=16)
    outcome: str = Field(primary_key=True, max_length=16)
    answer: str = Field(primary_key=True, max_length=64)
    contacts: int


class Audio(SQLModel, table=True):
    """An MP3 in the audio library (dialer.audio): its file is DIALER_AUDIO_DIR/<id>.mp3."""

    __tablename__ = "audio"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    # Letters, digits, _ and -: its URL's file name, with `key` after it.
    name: str = Field(max_length=64)
    # Random: the URL of a file cannot be guessed from its id.
    key: str = Field(max_length=32)
    filename: str | None = Field(default=None, max_length=255)
    size_bytes: int
    duration_s: float
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignAnswer(SQLModel, table=True):
    """How many of a campaign's contacts gave each answer to each question of its script: kept
    with every change to their answers (dialer.outbox)."""

    __tablename__ = "campaign_answer"

    campaign_id: int = Field(primary_key=True, sa_type=sa.BigInteger)
    question: str = Field(primary_key=True, max_length=40)
    label: str = Field(primary_key=True, max_length=64)
    contacts: int


class WebhookEvent(SQLModel, table=True):
    """One event for one endpoint, written in the transaction that made it happen, and sent
    until the endpoint takes it (or a day has passed)."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        sa.Index("ix_webhook_event_status_next_try_at", "status", "next_try_at"),
        # An endpoint's pending events in order, without passing its delivered ones.
        sa.Index("ix_webhook_event_endpoint_id_status_id", "endpoint_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    endpoint_id: int = Field(sa_type=sa.BigInteger)
    kind: EventKind = Field(sa_type=_enum_column(EventKind, length=32))
    # The exact bytes that are signed and sent.
    body: str
    status: EventStatus = Field(default=EventStatus.pending, sa_type=_enum_column(EventStatus))
    tries: int = 0
    next_try_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Tries stop after this (a day after the event, or after a re-send by API).
    give_up_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = _ts(nullable=True)


class WebhookDelivery(SQLModel, table=True):
    """One try at sending one event: what the endpoint answered, or why there was no answer."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    event_id: int = Field(sa_type=sa.BigInteger, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = Field(default=None)
    error: str | None = Field(default=None)
    duration_ms: int = 0
