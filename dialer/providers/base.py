"""The provider protocol, its typed results, and the one error tree every adapter maps into.

ProviderError
├── NotSent                 the provider certainly did not act: safe to send again later
│   ├── RateLimited         429; `retry_after` seconds
│   ├── Locked              423; `retry_after` seconds
│   ├── InsufficientCredit  not enough credit; `required` when the provider says it
│   ├── AuthFailed          our credentials were refused
│   ├── Misconfigured       our own configuration stops it (a number another application uses)
│   └── Transient           connection refused, or a GET that timed out or got a 5xx
├── Rejected                the provider refused this message for good (bad number, field)
├── NotFound                the provider does not know that id
└── Ambiguous               a POST that timed out or got a 5xx: it may have dialled
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from dialer.providers.capabilities import Capabilities
from dialer.vocabulary import Outcome

__all__ = [
    "Ambiguous",
    "AuthFailed",
    "CallRequest",
    "ConferenceProvider",
    "ConferenceRequest",
    "FindsRequests",
    "InboundMessage",
    "InsufficientCredit",
    "Locked",
    "Misconfigured",
    "NotFound",
    "NotSent",
    "PlacedCall",
    "PlacedConference",
    "PlacedMessage",
    "Provider",
    "ProviderError",
    "RateLimited",
    "Rejected",
    "SentRequest",
    "SmsRequest",
    "StatusReport",
    "Transient",
    "documented_outcome",
]


class ProviderError(Exception):
    """Base of every error an adapter raises. `status_code` is the HTTP status, if any."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    @property
    def kind(self) -> str:
        return type(self).__name__


class NotSent(ProviderError):
    """The request was certainly not acted on; it may be sent again later."""

    retry_after: float = 0.0


class RateLimited(NotSent):
    def __init__(self, message: str, *, retry_after: float, status_code: int | None = 429) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class Locked(NotSent):
    def __init__(self, message: str, *, retry_after: float, status_code: int | None = 423) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class InsufficientCredit(NotSent):
    def __init__(
        self, message: str, *, required: float | None, status_code: int | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.required = required


class AuthFailed(NotSent):
    pass


class Transient(NotSent):
    pass


class Misconfigured(NotSent):
    """Nothing was sent because our configuration stops it; a person must change it."""


class Rejected(ProviderError):
    """Permanent for this message: sending it again gets the same answer."""

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.fields = fields or {}


class NotFound(ProviderError):
    pass


class Ambiguous(ProviderError):
    """The provider may or may not have acted; reconcile, never resend."""


@dataclass(frozen=True)
class CallRequest:
    """One outbound call: a recording to play, or a text to speak (Xoxzo), or a call whose
    flow our call-flow endpoint serves, carrying `session_data` (Voxology)."""

    caller: str
    recipient: str
    callback_url: str
    tag: str
    recording_url: str | None = None
    tts_message: str | None = None
    tts_lang: str | None = None
    session_data: Mapping[str, Any] = field(default_factory=dict)
    ring_timeout_s: int | None = None
    max_call_time_s: int | None = None


@dataclass(frozen=True)
class SmsRequest:
    sender: str
    recipient: str
    message: str
    callback_url: str
    tag: str


@dataclass(frozen=True)
class ConferenceRequest:
    """Ring every participant from `caller` and join whoever answers; `lang` is the guidance's."""

    caller: str
    participants: tuple[str, ...]
    lang: str


@dataclass(frozen=True)
class PlacedCall:
    provider_id: str


@dataclass(frozen=True)
class PlacedConference:
    conference_id: str
    # Each participant's own call id.
    calls: Mapping[str, str]


@dataclass(frozen=True)
class PlacedMessage:
    provider_id: str
    parts: int


@dataclass(frozen=True)
class StatusReport:
    """A provider's view of one call or message; our outcome beside the raw status (None: open)."""

    provider_id: str
    raw_status: str
    outcome: Outcome | None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None
    cost: float | None = None
    tags: list[str] = field(default_factory=list)
    # Voxology: who answered (live_person, voicemail, fax, unknown) and the platform's error code.
    detection: str | None = None
    error_code: int | None = None
    # Why a final status is not what was asked for (the provider's error), for `last_error`;
    # and whether that error says the account's money ran out.
    error: str | None = None
    out_of_credit: bool = False
    # The provider bills after the end and said no cost yet: ask again later (Voxology).
    cost_later: bool = False
    # What an open status means if it turns out to be the last word (Voxology's "sent").
    settled_outcome: Outcome | None = None

    @property
    def is_final(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True)
class InboundMessage:
    """A text someone sent to one of our numbers."""

    provider_id: str
    sender: str  # their number
    recipient: str  # ours
    text: str
    received_at: datetime | None


class Provider(Protocol):
    name: str
    capabilities: Capabilities

    async def place_call(self, request: CallRequest) -> PlacedCall: ...

    async def call_status(self, provider_id: str) -> StatusReport: ...

    async def send_sms(self, request: SmsRequest) -> PlacedMessage: ...

    async def message_status(self, provider_id: str) -> StatusReport: ...

    async def balance(self) -> float: ...


@dataclass(frozen=True)
class SentRequest:
    """A request whose answer never came, as we sent it: what it may be looked up by. The
    provider acted on it, if at all, between `sent_at` and `until` (the client's timeout)."""

    tag: str
    session_data: Mapping[str, Any]
    recipient: str
    sender: str
    sent_at: datetime
    until: datetime


@runtime_checkable
class FindsRequests(Protocol):
    """A provider that can say whether a request whose answer was lost reached it. Each gives
    the calls or messages that may be that request: none, it never arrived; one, that is it;
    more, nobody can tell which."""

    async def find_call(self, sent: SentRequest) -> list[StatusReport]: ...

    async def find_message(self, sent: SentRequest) -> list[StatusReport]: ...


@runtime_checkable
class ConferenceProvider(Protocol):
    """A provider that rings several people and joins them in one request."""

    async def start_conference(self, request: ConferenceRequest) -> PlacedConference: ...

    async def conference_status(self, conference_id: str) -> list[StatusReport]: ...


_log = logging.getLogger(__name__)


def documented_outcome(
    table: Mapping[str, Outcome | None], raw: str, provider: str, what: str
) -> Outcome | None:
    """The outcome a documented status means; an undocumented one (the documents list "common"
    statuses, not all) is logged and taken as not final, so a later final status still counts
    and the call is followed until then."""
    if raw in table:
        return table[raw]
    _log.warning("%s: undocumented %s status %r, taken as not final", provider, what, raw[:40])
    return None
