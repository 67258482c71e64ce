"""The sandbox's knobs, its outcome table, and its in-memory account: calls, balance, throttle."""

from __future__ import annotations

import math
import random
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "OUTCOME_BY_LAST_DIGIT",
    "SMS_FAILS_ON_LAST_DIGIT",
    "CallScript",
    "SandboxAccount",
    "SandboxCall",
    "SandboxConfig",
    "SandboxDin",
    "SandboxMessage",
]


@dataclass(frozen=True)
class CallScript:
    """How a call to a number plays out, in provider seconds (before the time scale)."""

    status: str
    ring_s: float
    talk_s: float


# The recipient's last digit decides the outcome, so every run is reproducible.
OUTCOME_BY_LAST_DIGIT: dict[str, CallScript] = {
    **{d: CallScript("ANSWERED", ring_s=6, talk_s=24) for d in "0123456"},
    "7": CallScript("NO ANSWER", ring_s=30, talk_s=0),
    "8": CallScript("NO ANSWER", ring_s=30, talk_s=0),
    "9": CallScript("FAILED", ring_s=2, talk_s=0),
}


# Messages to numbers ending in 9 fail; every other one is delivered.
SMS_FAILS_ON_LAST_DIGIT = "9"
# Provider seconds from accepting a message to DELIVERING, and to its final status.
SMS_DELIVERING_AFTER_S = 1.0
SMS_FINAL_AFTER_S = 3.0


@dataclass
class SandboxConfig:
    sid: str = "sandbox-sid"
    auth_token: str = "sandbox-token"
    voxology_api_key: str = "sandbox-voxology-key"
    # "account:secret", sent base64-encoded as account-level Basic auth.
    voxology_basic_auth: str = "sandbox-account:sandbox-secret"
    voxology_balance: float = 100.0
    # Voxology's limits: requests per minute per API key (400429), calls in flight (400378);
    # 0 means unlimited. Provisioning takes this many provider seconds, one request at a time
    # per API key (423001).
    voxology_requests_per_minute: int = 0
    voxology_max_live_calls: int = 0
    voxology_provisioning_s: float = 2.0
    # The application has IBM Watson credentials (PUT /Integrations/TTS/Watson): SAY with
    # voice Watson (Japanese among others) works; without them such a call ends in error.
    voxology_watson: bool = True
    # Fetch each recording a call plays, as the platform would: a Xoxzo playback whose mp3
    # cannot be fetched, or is not MP3 audio, ends FAILED; a Voxology PLAY, error 400931.
    fetch_recordings: bool = False
    # Provider seconds per real second: 0.001 makes a 30 s ring last 30 ms.
    time_scale: float = 1.0
    # Requests per second per account; 0 means unlimited. Beyond it: 429.
    rate: float = 0.0
    balance: float = 10_000.0
    # Voice calls are refused (403) below this balance, whatever they cost.
    min_credits: float = 50.0
    # Credits per started minute of an answered call, plus the TTS add-on per call.
    cost_per_minute: float = 10.0
    tts_cost: float = 3.0
    sms_cost_per_part: float = 1.0
    # Faults: seconds before answering a POST (the call already exists), the share of call
    # POSTs answered 502 after the call was placed, and the share of callbacks never sent.
    post_delay_s: float = 0.0
    post_5xx_rate: float = 0.0
    callback_drop_rate: float = 0.0
    callback_attempts: int = 10
    # Chaos: the share of call POSTs that place the call and then answer only after
    # `post_hang_s` real seconds (past any client's timeout); the share answered 429 at random,
    # before placing anything; and for callbacks, the share of single deliveries lost on the
    # way (the sandbox tries again, as for an error), the share sent twice, and a random delay
    # of up to `callback_delay_s` real seconds before each.
    post_timeout_rate: float = 0.0
    post_hang_s: float = 30.0
    throttle_rate: float = 0.0
    callback_loss_rate: float = 0.0
    callback_duplicate_rate: float = 0.0
    callback_delay_s: float = 0.0
    # The network between client and provider: each request reaches the account (and is
    # counted against its rate) up to this many real seconds after it was sent, at random,
    # and its answer takes as long again to come back.
    network_jitter_s: float = 0.0
    seed: int = 1

    KNOBS = (
        "time_scale",
        "rate",
        "balance",
        "min_credits",
        "post_delay_s",
        "post_5xx_rate",
        "callback_drop_rate",
        "post_timeout_rate",
        "post_hang_s",
        "throttle_rate",
        "callback_loss_rate",
        "callback_duplicate_rate",
        "callback_delay_s",
        "network_jitter_s",
        "voxology_balance",
        "voxology_requests_per_minute",
        "voxology_max_live_calls",
        "voxology_provisioning_s",
        "voxology_watson",
        "fetch_recordings",
    )

    def public(self) -> dict[str, Any]:
        secret = {"sid", "auth_token", "voxology_api_key", "voxology_basic_auth"}
        return {k: v for k, v in asdict(self).items() if k not in secret}


def utc_text(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else None


@dataclass
class SandboxCall:
    callid: str
    caller: str
    recipient: str
    call_type: str
    tags: list[str]
    callbackurl: str | None
    tts: bool
    script: CallScript
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    end_time: datetime | None = None
    status: str = "IN PROGRESS"
    cost: float = 0.0
    duration: int = 0
    callback_deliveries: list[int] = field(default_factory=list)
    recording_url: str | None = None
    # What fetching the recording gave (fetch_recordings): its bytes, or why it failed.
    played_bytes: int | None = None
    play_error: str | None = None

    def as_status(self, base_url: str) -> dict[str, Any]:
        return {
            "callid": self.callid,
            "caller": self.caller,
            "recipient": self.recipient,
            "status": self.status,
            "start_time": utc_text(self.start_time),
            "end_time": utc_text(self.end_time),
            "duration": self.duration,
            "cost": self.cost,
            "direction": "outbound",
            "call_type": self.call_type,
            "url": f"{base_url}/voice/calls/{self.callid}/",
            "tags": self.tags,
        }


@dataclass
class SandboxConference:
    conferenceid: str
    caller: str
    lang: str
    calls: list[SandboxCall]

    def as_status(self, base_url: str) -> dict[str, Any]:
        starts = [c.start_time for c in self.calls]
        ends = [c.end_time for c in self.calls]
        over = all(end is not None for end in ends)
        return {
            "cost": sum(c.cost for c in self.calls),
            "participants": [c.as_status(base_url) for c in self.calls],
            "conferenceid": self.conferenceid,
            "start_time": utc_text(min(starts)),
            "end_time": utc_text(max(e for e in ends if e is not None)) if over else None,
            "duration": max(c.duration for c in self.calls),
        }


@dataclass
class SandboxMessage:
    msgid: str
    recipient: str
    sender: str
    message: str
    parts: int
    tags: list[str]
    callbackurl: str | None
    sent_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "QUEUED"
    cost: float = 0.0
    callback_deliveries: list[int] = field(default_factory=list)

    def as_status(self, base_url: str) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "recipient": self.recipient,
            "sender": self.sender,
            "status": self.status,
            "cost": self.cost,
            "sent_time": utc_text(self.sent_time),
            "url": f"{base_url}/sms/messages/{self.msgid}/",
            "tags": self.tags,
        }


@dataclass
class SandboxDin:
    din_uid: str
    din: str  # digits with the country code, as Xoxzo writes it: "81312345678"
    country_code: str
    prefix: str
    minute_cost: float
    monthly_cost: float
    subscribed: bool = False
    action_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "country_code": self.country_code,
            "din": self.din,
            "din_uid": self.din_uid,
            "minute_cost": self.minute_cost,
            "monthly_cost": self.monthly_cost,
            "prefix": self.prefix,
        }


def _din_catalog() -> dict[str, SandboxDin]:
    # The two DINs of Xoxzo's example, and a few more to search among.
    dins = [
        SandboxDin("JPafr34rafic76tf", "815012345678", "81", "50", 1, 650.0),
        SandboxDin("JPascfdrwersdf12", "81312345678", "81", "3", 10, 1900.0),
        SandboxDin("JPtokyo000000002", "81398765432", "81", "3", 10, 1900.0),
        SandboxDin("JPosaka000000001", "81612345678", "81", "6", 10, 1900.0),
        SandboxDin("USsanfran0000001", "14155550100", "1", "415", 2, 300.0),
    ]
    return {d.din_uid: d for d in dins}


COUNTRY_CODES = {"JP": "81", "US": "1"}


class SandboxAccount:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.calls: dict[str, SandboxCall] = {}
        self.messages: dict[str, SandboxMessage] = {}
        self.conferences: dict[str, SandboxConference] = {}
        self.dins = _din_catalog()
        self.voxology_messages: dict[str, Any] = {}
        self.voxology_calls: dict[str, Any] = {}
        self.voxology_configs: dict[str, Any] = {}
        # Rings one of the account's Voxology numbers from a caller (voxology_calls).
        self.voxology_ring_in: Any = None
        self.voxology_numbers: dict[str, dict[str, Any]] = {}
        self.voxology_provisioning = False
        # Provisioning requests answered 423001: one came while another was in flight.
        self.voxology_locked = 0
        self._voxology_recent: deque[float] = deque()
        self.voxology_throttled = 0
        self.random = random.Random(config.seed)
        self._recent: deque[float] = deque()
        self.throttled = 0
        # Under a rate: (Unix time, "POST /voice/simple/playbacks/", accepted) for each request.
        self.traffic: list[tuple[float, str, bool]] = []

    def throttle_wait(self, what: str = "") -> int | None:
        """Seconds to wait if this request is over the rate, else None (and it is counted)."""
        rate = self.config.rate
        if rate <= 0:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= rate:
            self.throttled += 1
            self.traffic.append((time.time(), what, False))
            return max(1, math.ceil(1.0 - (now - self._recent[0])))
        self._recent.append(now)
        self.traffic.append((time.time(), what, True))
        return None

    def voxology_throttle_wait(self) -> int | None:
        """Seconds until a Voxology request fits the per-minute limit, else None (counted)."""
        limit = self.config.voxology_requests_per_minute
        if limit <= 0:
            return None
        now = time.monotonic()
        while self._voxology_recent and now - self._voxology_recent[0] >= 60.0:
            self._voxology_recent.popleft()
        if len(self._voxology_recent) >= limit:
            self.voxology_throttled += 1
            return max(1, math.ceil(60.0 - (now - self._voxology_recent[0])))
        self._voxology_recent.append(now)
        return None

    def place(
        self,
        *,
        caller: str,
        recipient: str,
        tags: list[str],
        callbackurl: str | None,
        tts: bool,
        call_type: str = "simple/playbacks",
    ) -> SandboxCall:
        call = SandboxCall(
            callid=str(uuid.uuid4()),
            caller=caller,
            recipient=recipient,
            call_type=call_type,
            tags=tags,
            callbackurl=callbackurl,
            tts=tts,
            script=OUTCOME_BY_LAST_DIGIT[recipient[-1]],
        )
        self.calls[call.callid] = call
        return call

    def finish(self, call: SandboxCall) -> None:
        call.status = call.script.status
        call.end_time = datetime.now(UTC)
        if call.status == "ANSWERED":
            call.duration = int(call.script.talk_s)
            minutes = max(1, math.ceil(call.script.talk_s / 60))
            call.cost = minutes * self.config.cost_per_minute + (
                self.config.tts_cost if call.tts else 0.0
            )
        self.config.balance -= call.cost

    def accept_message(
        self,
        *,
        recipient: str,
        sender: str,
        message: str,
        parts: int,
        tags: list[str],
        callbackurl: str | None,
    ) -> SandboxMessage:
        sms = SandboxMessage(
            msgid=str(uuid.uuid4()),
            recipient=recipient,
            sender=sender,
            message=message,
            parts=parts,
            tags=tags,
            callbackurl=callbackurl,
            cost=parts * self.config.sms_cost_per_part,
        )
        self.config.balance -= sms.cost
        self.messages[sms.msgid] = sms
        return sms

    def chance(self, rate: float) -> bool:
        return rate > 0 and self.random.random() < rate
