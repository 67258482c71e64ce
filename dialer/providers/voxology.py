"""Voxology adapter: Dials/Connect, LiveCalls and call logs, Messages, caller-ID callback
configuration, balance. JSON bodies; `X-API-Key` for the application, Basic for the account.

A Voxology call does what the caller ID's callback configuration says, so before the first call
from a caller ID the adapter points that configuration at our call-flow endpoint.
"""

from __future__ import annotations

import asyncio
import logging
from base64 import b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from dialer.providers import fields
from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    CallRequest,
    InboundMessage,
    InsufficientCredit,
    Locked,
    Misconfigured,
    NotFound,
    PlacedCall,
    PlacedMessage,
    ProviderError,
    RateLimited,
    Rejected,
    SentRequest,
    SmsRequest,
    StatusReport,
    Transient,
    documented_outcome,
)
from dialer.providers.capabilities import VOXOLOGY
from dialer.providers.http import exchange
from dialer.providers.voxology_errors import FLOW_ERRORS, describe_error
from dialer.vocabulary import Outcome

_log = logging.getLogger(__name__)

__all__ = [
    "CALL_STATUS_OUTCOMES",
    "CODE_ERRORS",
    "MESSAGE_STATUS_OUTCOMES",
    "STATUS_ERRORS",
    "FlowCallback",
    "VoxologyProvider",
    "call_outcome",
    "map_http_error",
    "message_outcome",
    "parse_call",
    "parse_inbound_message",
    "parse_message",
    "voxology_sms_parts",
]

# Final statuses map to outcomes; live-* ones are in progress (None). A completed call's outcome
# depends on who answered: see call_outcome().
CALL_STATUS_OUTCOMES: dict[str, Outcome | None] = {
    "live-queued": None,
    "live-ringing": None,
    "live-in-progress": None,
    "completed": Outcome.answered,
    "no-answer": Outcome.no_answer,
    "busy": Outcome.busy,
    "canceled": Outcome.no_answer,
    "failed": Outcome.failed,
    "restricted": Outcome.rejected,
    "error": Outcome.failed,
    "unknown": Outcome.unknown,
}

_DETECTION_OUTCOMES: dict[str, Outcome] = {
    "live_person": Outcome.answered,
    "voicemail": Outcome.voicemail,
    "fax": Outcome.failed,
    "unknown": Outcome.answered,
}

# "sent" is final for carriers that never confirm delivery, but most do: it stays open, and if
# it is still the last word at the deadline the message counts as delivered.
MESSAGE_STATUS_OUTCOMES: dict[str, Outcome | None] = {
    "accepted": None,
    "queued": None,
    "sending": None,
    "sent": None,
    "delivered": Outcome.delivered,
    "undelivered": Outcome.failed,
    "failed": Outcome.failed,
    "opt-out": Outcome.opted_out,
}


def call_outcome(
    status: str, detection: str | None, error_code: int | None = None
) -> Outcome | None:
    """A call that ended with a call-flow error failed, whoever answered: the person heard
    Voxology's error message, not ours."""
    outcome = documented_outcome(CALL_STATUS_OUTCOMES, status, "voxology", "call")
    if outcome is None:
        return None
    if error_code is not None:
        return Outcome.failed
    if outcome is Outcome.answered:
        return _DETECTION_OUTCOMES.get(detection or "unknown", Outcome.answered)
    return outcome


def message_outcome(status: str, error_code: int | None = None) -> Outcome | None:
    outcome = documented_outcome(MESSAGE_STATUS_OUTCOMES, status, "voxology", "message")
    if outcome is Outcome.delivered and error_code is not None:
        return Outcome.failed
    return outcome


def _error(data: Mapping[str, Any], code: int | None) -> dict[str, Any]:
    """The StatusReport fields an error code fills in."""
    if code is None:
        return {}
    known = FLOW_ERRORS.get(code)
    return {
        "error": describe_error(code, data.get("error")),
        "out_of_credit": bool(known and known.out_of_credit),
    }


@dataclass(frozen=True)
class _Failure:
    status_code: int
    code: int | None
    message: str
    retry_after_header: str | None
    is_post: bool


def _retry_after(failure: _Failure, default: float) -> float:
    try:
        return float(failure.retry_after_header) if failure.retry_after_header else default
    except ValueError:
        return default


# Voxology's detailed codes come first; the HTTP status decides the rest.
CODE_ERRORS: dict[int, Callable[[_Failure], ProviderError]] = {
    # Requests per minute: the window is a minute long.
    400429: lambda f: RateLimited(
        f.message, retry_after=_retry_after(f, 60.0), status_code=f.status_code
    ),
    # Call throttle: calls in flight; a few seconds frees a slot.
    400378: lambda f: RateLimited(
        f.message, retry_after=_retry_after(f, 5.0), status_code=f.status_code
    ),
    402001: lambda f: InsufficientCredit(f.message, required=None, status_code=f.status_code),
    401001: lambda f: AuthFailed(f.message, status_code=f.status_code),
    401002: lambda f: AuthFailed(f.message, status_code=f.status_code),
    423001: lambda f: Locked(
        f.message, retry_after=_retry_after(f, 3.0), status_code=f.status_code
    ),
    403293: lambda f: Rejected(f"caller ID not verified: {f.message}", status_code=f.status_code),
    404404: lambda f: NotFound(f.message, status_code=f.status_code),
}

STATUS_ERRORS: dict[int, Callable[[_Failure], ProviderError]] = {
    400: lambda f: Rejected(f.message, status_code=400),
    401: lambda f: AuthFailed(f.message, status_code=401),
    402: lambda f: InsufficientCredit(f.message, required=None, status_code=402),
    403: lambda f: Rejected(f.message, status_code=403),
    404: lambda f: NotFound(f.message, status_code=404),
    423: lambda f: Locked(f.message, retry_after=_retry_after(f, 3.0), status_code=423),
    429: lambda f: RateLimited(f.message, retry_after=_retry_after(f, 5.0), status_code=429),
}


def map_http_error(response: httpx.Response, *, is_post: bool) -> ProviderError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    message = (
        f"{code}: {body.get('message', '')}".strip()
        if isinstance(body, dict)
        else (response.text[:200] or f"HTTP {response.status_code}")
    )
    failure = _Failure(
        status_code=response.status_code,
        code=code if isinstance(code, int) else None,
        message=message,
        retry_after_header=response.headers.get("Retry-After"),
        is_post=is_post,
    )
    if failure.code in CODE_ERRORS:
        return CODE_ERRORS[failure.code](failure)
    if response.status_code >= 500:
        cls = Ambiguous if is_post else Transient
        return cls(f"HTTP {response.status_code}: {message}", status_code=response.status_code)
    build = STATUS_ERRORS.get(response.status_code)
    if build is None:
        return Rejected(f"HTTP {response.status_code}: {message}", status_code=response.status_code)
    return build(failure)


def _charge(data: Mapping[str, Any]) -> dict[str, Any]:
    """The cost fields: `charge.total` "is populated after the call is completed and may not be
    available immediately", and callbacks and status webhooks never carry it."""
    charge = data.get("charge") or {}
    if not isinstance(charge, dict):
        raise fields.MalformedField("charge", charge, "an object")
    cost = fields.amount(charge.get("total"), "charge.total")
    return {"cost": cost, "cost_later": cost is None}


def parse_call(data: Mapping[str, Any]) -> StatusReport:
    """A call as LiveCalls, the call logs and call-flow callbacks describe it."""
    raw = str(data.get("status") or "unknown")[:40]
    detection = data.get("detection")
    seconds = fields.seconds(data.get("connect_time_sec"), "connect_time_sec")
    connected_ms = fields.integer(
        data.get("connected_time"), "connected_time", high=fields.MAX_SECONDS * 1000
    )
    if seconds is None and connected_ms is not None:
        seconds = connected_ms // 1000
    code = fields.integer(data.get("error_code"), "error_code")
    return StatusReport(
        provider_id=str(data.get("call_id") or data["id"]),
        raw_status=raw,
        outcome=call_outcome(raw, detection, code),
        started_at=fields.moment(data.get("start_time") or data.get("date"), "start_time"),
        ended_at=fields.moment(data.get("end_time"), "end_time"),
        duration_s=seconds,
        **_charge(data),
        detection=str(detection)[:40] if detection else None,
        error_code=code,
        **_error(data, code),
    )


def parse_message(data: Mapping[str, Any]) -> StatusReport:
    """An outbound message as GET /Messages/{id} and the status webhook describe it."""
    raw = str(data.get("status") or "")[:40]
    code = fields.integer(data.get("error_code"), "error_code")
    return StatusReport(
        provider_id=str(data["message_id"]),
        raw_status=raw,
        outcome=message_outcome(raw, code),
        started_at=fields.moment(data.get("created_on"), "created_on"),
        ended_at=fields.moment(data.get("updated_on"), "updated_on"),
        **_charge(data),
        tags=[str(data["external_id"])] if data.get("external_id") else [],
        error_code=code,
        **_error(data, code),
        settled_outcome=Outcome.delivered if raw == "sent" and code is None else None,
    )


def parse_inbound_message(data: Mapping[str, Any]) -> InboundMessage | None:
    """A message callback about a text someone sent us; None for any other callback."""
    if data.get("service") != "programmable_messaging" or data.get("direction") != "inbound":
        return None
    try:
        return InboundMessage(
            provider_id=str(data["message_id"]),
            sender=str(data["caller_no"]),
            recipient=str(data["api_no"]),
            text=str(data.get("text_message") or ""),
            received_at=fields.moment(data.get("created_on"), "created_on"),
        )
    except KeyError:
        return None


# How far the provider's clock and ours may disagree, for searches by time.
_CLOCK_SKEW = timedelta(seconds=30)


def _segment(value: str) -> str:
    """A path segment as the reference writes them: `+` escaped, a call id's `@` kept."""
    return quote(value, safe="@")


def voxology_sms_parts(text: str) -> int:
    """Voxology bills 152 characters a part for 7-bit text and 66 for Unicode."""
    if not text:
        return 0
    per_part = 152 if text.isascii() else 66
    return -(-len(text) // per_part)


@dataclass(frozen=True)
class FlowCallback:
    """Where Voxology asks what a call from one of our caller IDs does next, and the headers
    that prove the request is Voxology's. `failover` is asked when `url` fails (unset: `url`
    again, which outlasts a single failed request). `take_over`: a number already pointing
    elsewhere is pointed at us (its old configuration logged); otherwise it is refused."""

    url: str
    headers: Mapping[str, str]
    failover: str | None = None
    take_over: bool = False

    def configuration(self) -> dict[str, Any]:
        def target(url: str) -> dict[str, Any]:
            return {
                "method": "POST",
                "url": url,
                "content_type": "application/json",
                "headers": dict(self.headers),
            }

        backup = target(self.failover or self.url)
        return {
            "callback": target(self.url),
            "callback_failover": backup,
            "callback_sms": target(self.url),
            "callback_sms_failover": backup,
        }


def _callback_url(configuration: Mapping[str, Any] | None) -> str | None:
    callback = (configuration or {}).get("callback")
    return str(callback.get("url")) if isinstance(callback, Mapping) else None


class VoxologyProvider:
    name = "voxology"
    capabilities = VOXOLOGY

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        api_key: str,
        base_url: str,
        basic_auth: str | None = None,
        flow_callback: FlowCallback | None = None,
    ) -> None:
        self._client = client
        self._api_key = api_key
        self._basic_auth = basic_auth
        self._base = base_url.rstrip("/")
        self._flow_callback = flow_callback
        self._configured: set[str] = set()
        self._configuring = asyncio.Lock()

    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        account_level: bool = False,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        is_post = method in {"POST", "PUT"}
        headers = (
            {"Authorization": f"Basic {b64encode(self._basic_auth.encode()).decode()}"}
            if account_level and self._basic_auth
            else {"X-API-Key": self._api_key}
        )
        return await exchange(
            self._client,
            method,
            f"{self._base}{path}",
            is_post=is_post,
            map_http_error=map_http_error,
            allow_empty=method == "DELETE",
            json=body,
            headers=headers,
            params=params,
        )

    async def _ensure_configured(self, caller_id: str) -> None:
        """Point `caller_id` at our call-flow endpoint, once per process; the PUT is idempotent.
        A number whose configuration points elsewhere is left alone unless we may take it over."""
        flow = self._flow_callback
        if flow is None or caller_id in self._configured:
            return
        async with self._configuring:
            if caller_id in self._configured:
                return
            try:
                existing = await self.number_configuration(caller_id)
                theirs = _callback_url(existing)
                if theirs not in (None, flow.url):
                    if not flow.take_over:
                        raise Misconfigured(
                            f"caller ID {caller_id} already sends its calls to {theirs}; "
                            "set DIALER_VOXOLOGY_TAKE_OVER_NUMBERS=true to point it at the dialer"
                        )
                    _log.warning(
                        "caller ID %s taken over; its configuration was: %s", caller_id, existing
                    )
                await self._request(
                    "PUT",
                    f"/CallFlows/Configurations/PhoneNumbers/{_segment(caller_id)}",
                    flow.configuration(),
                )
            except Ambiguous as exc:
                # Nothing was dialled, and the PUT can safely be made again.
                raise Transient(f"caller ID configuration: {exc.message}") from exc
            self._configured.add(caller_id)

    async def number_configuration(self, number: str) -> dict[str, Any] | None:
        """The number's own call-flow configuration, or None if it has none."""
        try:
            found = await self._request(
                "GET", f"/CallFlows/Configurations/PhoneNumbers/{_segment(number)}"
            )
        except NotFound:
            return None
        return found if isinstance(found, dict) else None

    async def place_call(self, request: CallRequest) -> PlacedCall:
        await self._ensure_configured(request.caller)
        body: dict[str, Any] = {
            "call": {"no": request.recipient, "caller_id_no": request.caller},
            "session_data": {**request.session_data, "tag": request.tag},
        }
        if request.ring_timeout_s is not None:
            body["timeout"] = request.ring_timeout_s
        if request.max_call_time_s is not None:
            body["max_call_time"] = request.max_call_time_s
        answer = await self._request("POST", "/Dials/Connect", body)
        try:
            return PlacedCall(provider_id=str(answer["call"]["id"]))
        except (KeyError, TypeError) as exc:
            raise Ambiguous(f"Dials/Connect answered without a call id: {answer!r}") from exc

    async def call_status(self, provider_id: str) -> StatusReport:
        try:
            return parse_call(await self._request("GET", f"/LiveCalls/{_segment(provider_id)}"))
        except NotFound:
            # A call that has ended leaves LiveCalls; its log keeps the final word.
            return parse_call(
                await self._request("GET", f"/History/Logs/Calls/{_segment(provider_id)}")
            )

    async def send_sms(self, request: SmsRequest) -> PlacedMessage:
        answer = await self._request(
            "POST",
            "/Messages",
            {
                "api_no": request.sender,
                "caller_no": request.recipient,
                "text_message": request.message,
                "external_id": request.tag,
                "status_webhook": {"url": request.callback_url},
            },
        )
        try:
            message_id = str(answer["message_id"])
        except (KeyError, TypeError) as exc:
            raise Ambiguous(f"Messages answered without a message_id: {answer!r}") from exc
        return PlacedMessage(provider_id=message_id, parts=voxology_sms_parts(request.message))

    async def message_status(self, provider_id: str) -> StatusReport:
        return parse_message(await self._request("GET", f"/Messages/{_segment(provider_id)}"))

    async def configure_number(
        self, number: str, callback_url: str, headers: Mapping[str, str]
    ) -> None:
        """Point a number's call-flow callbacks (and inbound SMS) at `callback_url`, whatever
        it pointed at before."""
        await self._request(
            "PUT",
            f"/CallFlows/Configurations/PhoneNumbers/{_segment(number)}",
            FlowCallback(url=callback_url, headers=headers).configuration(),
        )

    async def provision_numbers(
        self, numbers: list[str], assigned_to: str = "CallFlows"
    ) -> list[dict[str, Any]]:
        """Buy and route numbers. Voxology takes one provisioning request at a time per API key
        and answers a concurrent one 423001 (Locked)."""
        answer = await self._request(
            "POST", f"/PhoneNumbers/{assigned_to}", {"phone_numbers": [{"no": n} for n in numbers]}
        )
        return list(answer.get("phone_numbers", []))

    async def release_numbers(self, numbers: list[str], assigned_to: str = "CallFlows") -> None:
        await self._request(
            "DELETE",
            f"/PhoneNumbers/{assigned_to}",
            {"phone_numbers": [{"no": n} for n in numbers]},
        )

    async def call_logs(
        self, *, begin: datetime, end: datetime, caller_no: str
    ) -> list[dict[str, Any]]:
        """Outbound calls to `caller_no` in [begin, end), as logged (live ones too)."""
        answer = await self._request(
            "GET",
            "/History/Logs/Calls",
            params={
                "begin_date": begin.isoformat(),
                "end_date": end.isoformat(),
                "direction": "outbound",
                "caller_no": caller_no,
                "type": "voice",
            },
        )
        return list(answer.get("logs", []))

    async def find_call(self, sent: SentRequest) -> list[StatusReport]:
        """LiveCalls carry our session data, so a live call is found for certain. The call
        logs do not (the reference lists none): an ended call is one to the same person from
        the same caller ID that started while the request could have been acted on."""
        ours = sent.session_data.get("attempt_id")
        live = await self._request("GET", "/LiveCalls", params={"filter_on_nos": sent.recipient})
        strangers: set[str] = set()
        for call in live.get("calls", []):
            if (call.get("session_data") or {}).get("attempt_id") == ours:
                return [parse_call(call)]
            strangers.add(str(call.get("id")))
        logs = await self.call_logs(
            begin=sent.sent_at - _CLOCK_SKEW, end=sent.until + _CLOCK_SKEW, caller_no=sent.recipient
        )
        found = []
        for log in logs:
            data = log.get("session_data")
            if data and data.get("attempt_id") == ours:
                return [parse_call(log)]
            if data or str(log.get("call_id")) in strangers or log.get("api_no") != sent.sender:
                continue
            found.append(parse_call(log))
        return found

    async def find_message(self, sent: SentRequest) -> list[StatusReport]:
        """Our tag is the message's `external_id`, which the message list filters on."""
        answer = await self._request(
            "GET",
            "/Messages",
            params={
                "external_id": sent.tag,
                "direction": "outbound",
                "begin_date": (sent.sent_at - _CLOCK_SKEW).isoformat(),
                "end_date": (sent.until + _CLOCK_SKEW).isoformat(),
            },
        )
        return [
            parse_message(m) for m in answer.get("messages", []) if m.get("external_id") == sent.tag
        ]

    async def balance(self) -> float:
        if not self._basic_auth:
            raise AuthFailed("VOXOLOGY_BASIC_AUTH is not set: the balance is account-level")
        answer = await self._request("GET", "/Account/Billings/Balance", account_level=True)
        return float(answer["balance"])
