"""Xoxzo adapter: simple playback calls (mp3 or TTS) and their status, SMS and theirs, credits.

Basic auth (SID, auth token), form bodies, JSON answers, paths ending in a slash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from dialer.providers import fields
from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    CallRequest,
    ConferenceRequest,
    InsufficientCredit,
    NotFound,
    PlacedCall,
    PlacedConference,
    PlacedMessage,
    ProviderError,
    RateLimited,
    Rejected,
    SmsRequest,
    StatusReport,
    Transient,
    documented_outcome,
)
from dialer.providers.capabilities import XOXZO
from dialer.providers.http import TRANSPORT_ERRORS, exchange, map_transport_error
from dialer.sms import sms_parts
from dialer.vocabulary import Outcome

__all__ = [
    "SMS_STATUS_OUTCOMES",
    "STATUS_ERRORS",
    "STATUS_OUTCOMES",
    "TRANSPORT_ERRORS",
    "DinOffer",
    "XoxzoProvider",
    "map_http_error",
    "map_transport_error",
    "parse_call_status",
    "parse_din",
    "parse_message_status",
]

# Xoxzo's call statuses. ANSWERED includes "passed to a mailbox": Xoxzo cannot tell voicemail.
STATUS_OUTCOMES: dict[str, Outcome | None] = {
    "IN PROGRESS": None,
    "ANSWERED": Outcome.answered,
    "NO ANSWER": Outcome.no_answer,
    "BUSY": Outcome.busy,
    "FAILED": Outcome.failed,
}


# Xoxzo's SMS statuses: QUEUED and DELIVERING are pending.
SMS_STATUS_OUTCOMES: dict[str, Outcome | None] = {
    "QUEUED": None,
    "DELIVERING": None,
    "DELIVERED": Outcome.delivered,
    "OK": Outcome.delivered,
    "FAILED": Outcome.failed,
    "FAIL": Outcome.failed,
}


@dataclass(frozen=True)
class _Failure:
    status_code: int
    body: Any
    text: str
    retry_after_header: str | None
    is_post: bool


def _message(failure: _Failure) -> str:
    body = failure.body
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            return str(body["detail"])
        parts = [
            f"{key}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
            for key, v in body.items()
        ]
        return "; ".join(parts)
    return failure.text[:200] or f"HTTP {failure.status_code}"


_REQUIRED = re.compile(r"required:\s*([0-9]+(?:\.[0-9]+)?)")
_EXPECTED = re.compile(r"available in\s*([0-9]+(?:\.[0-9]+)?)\s*second", re.IGNORECASE)


def _bad_request(f: _Failure) -> ProviderError:
    fields = {k: [str(m) for m in v] for k, v in f.body.items()} if isinstance(f.body, dict) else {}
    return Rejected(_message(f), fields=fields, status_code=400)


def _forbidden(f: _Failure) -> ProviderError:
    text = _message(f)
    if "credit" in text.lower():
        found = _REQUIRED.search(text)
        return InsufficientCredit(
            text, required=float(found.group(1)) if found else None, status_code=403
        )
    return AuthFailed(text, status_code=403)


def _throttled(f: _Failure) -> ProviderError:
    wait: float | None = None
    if f.retry_after_header:
        try:
            wait = float(f.retry_after_header)
        except ValueError:
            wait = None
    if wait is None:
        found = _EXPECTED.search(_message(f))
        wait = float(found.group(1)) if found else 1.0
    return RateLimited(_message(f), retry_after=max(wait, 0.0), status_code=429)


def _server_error(f: _Failure) -> ProviderError:
    cls = Ambiguous if f.is_post else Transient
    return cls(f"HTTP {f.status_code}: {_message(f)}", status_code=f.status_code)


STATUS_ERRORS: dict[int, Callable[[_Failure], ProviderError]] = {
    400: _bad_request,
    401: lambda f: AuthFailed(_message(f), status_code=401),
    403: _forbidden,
    404: lambda f: NotFound(_message(f), status_code=404),
    429: _throttled,
}


def map_http_error(response: httpx.Response, *, is_post: bool) -> ProviderError:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    failure = _Failure(
        status_code=response.status_code,
        body=body,
        text=response.text,
        retry_after_header=response.headers.get("Retry-After"),
        is_post=is_post,
    )
    if response.status_code >= 500:
        return _server_error(failure)
    build = STATUS_ERRORS.get(response.status_code)
    if build is None:
        return Rejected(
            f"HTTP {response.status_code}: {_message(failure)}", status_code=response.status_code
        )
    return build(failure)


def _parse_time(value: Any, field: str = "time") -> datetime | None:
    # Xoxzo writes "2016-01-01 12:34:56", in UTC.
    return fields.moment(value, field, "%Y-%m-%d %H:%M:%S")


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return [str(t) for t in value or []]


def _number(value: Any) -> float | None:
    return float(value) if value not in (None, "") else None


def parse_call_status(data: Mapping[str, Any]) -> StatusReport:
    raw = str(data.get("status", "")).upper()[:40]
    return StatusReport(
        provider_id=str(data["callid"]),
        raw_status=raw,
        outcome=documented_outcome(STATUS_OUTCOMES, raw, "xoxzo", "call"),
        started_at=_parse_time(data.get("start_time"), "start_time"),
        ended_at=_parse_time(data.get("end_time"), "end_time"),
        duration_s=fields.seconds(data.get("duration"), "duration"),
        cost=fields.amount(data.get("cost"), "cost"),
        tags=_tags(data.get("tags")),
    )


def parse_message_status(data: Mapping[str, Any]) -> StatusReport:
    raw = str(data.get("status", "")).upper()[:40]
    outcome = documented_outcome(SMS_STATUS_OUTCOMES, raw, "xoxzo", "message")
    sent = _parse_time(data.get("sent_time"), "sent_time")
    return StatusReport(
        provider_id=str(data["msgid"]),
        raw_status=raw,
        outcome=outcome,
        started_at=sent,
        ended_at=sent if outcome is not None else None,
        cost=fields.amount(data.get("cost"), "cost"),
        tags=_tags(data.get("tags")),
    )


@dataclass(frozen=True)
class DinOffer:
    """A Dial In Number, as the search and subscription lists describe it."""

    din_uid: str
    number: str
    country_code: str
    prefix: str
    minute_cost: float | None
    monthly_cost: float | None
    action_url: str | None = None


def parse_din(data: Mapping[str, Any]) -> DinOffer:
    digits = str(data["din"]).lstrip("+")
    return DinOffer(
        din_uid=str(data["din_uid"]),
        number=f"+{digits}",
        country_code=str(data.get("country_code") or ""),
        prefix=str(data.get("prefix") or ""),
        minute_cost=_number(data.get("minute_cost")),
        monthly_cost=_number(data.get("monthly_cost")),
        action_url=data.get("action_url") or None,
    )


class XoxzoProvider:
    name = "xoxzo"
    capabilities = XOXZO

    def __init__(self, client: httpx.AsyncClient, *, sid: str, auth_token: str, base_url: str):
        self._client = client
        self._auth = httpx.BasicAuth(sid, auth_token)
        self._base = base_url.rstrip("/")

    async def _request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        # DELETE is not repeatable blindly either: treat it like a POST when unsure.
        return await exchange(
            self._client,
            method,
            f"{self._base}{path}",
            is_post=method in {"POST", "DELETE"},
            map_http_error=map_http_error,
            allow_empty=True,
            data=data,
            params=params,
            auth=self._auth,
        )

    async def place_call(self, request: CallRequest) -> PlacedCall:
        form = {
            "caller": request.caller,
            "recipient": request.recipient,
            "callbackurl": request.callback_url,
            "tags": request.tag,
        }
        if request.recording_url:
            form["recording_url"] = request.recording_url
        else:
            form["tts_message"] = request.tts_message or ""
            form["tts_lang"] = request.tts_lang or "ja"
        body = await self._request("POST", "/voice/simple/playbacks/", form)
        try:
            return PlacedCall(provider_id=str(body[0]["callid"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise Ambiguous(f"201 without a callid: {body!r}") from exc

    async def call_status(self, provider_id: str) -> StatusReport:
        body = await self._request("GET", f"/voice/calls/{provider_id}/")
        return parse_call_status(body)

    async def start_conference(self, request: ConferenceRequest) -> PlacedConference:
        # The conference API takes no callbackurl and no tags: its calls are followed by polling.
        form = {
            "caller": request.caller,
            "participants": ",".join(request.participants),
            "lang": request.lang,
        }
        body = await self._request("POST", "/voice/simple/conferences/", form)
        try:
            calls = {str(p["participant"]): str(p["callid"]) for p in body["participants"]}
            return PlacedConference(conference_id=str(body["conferenceid"]), calls=calls)
        except (KeyError, TypeError) as exc:
            raise Ambiguous(f"201 without a conferenceid and call ids: {body!r}") from exc

    async def conference_status(self, conference_id: str) -> list[StatusReport]:
        body = await self._request("GET", f"/voice/simple/conferences/{conference_id}/")
        return [parse_call_status(leg) for leg in body.get("participants", [])]

    async def send_sms(self, request: SmsRequest) -> PlacedMessage:
        form = {
            "message": request.message,
            "recipient": request.recipient,
            "sender": request.sender,
            "callbackurl": request.callback_url,
            "tags": request.tag,
        }
        body = await self._request("POST", "/sms/messages/", form)
        try:
            msgid = str(body[0]["msgid"])
        except (KeyError, IndexError, TypeError) as exc:
            raise Ambiguous(f"201 without a msgid: {body!r}") from exc
        return PlacedMessage(provider_id=msgid, parts=sms_parts(request.message))

    async def message_status(self, provider_id: str) -> StatusReport:
        body = await self._request("GET", f"/sms/messages/{provider_id}/")
        return parse_message_status(body)

    async def search_dins(
        self, *, country: str | None = None, prefix: str | None = None
    ) -> list[DinOffer]:
        query = {k: v for k, v in (("country", country), ("prefix", prefix)) if v}
        body = await self._request("GET", "/voice/dins/", params=query)
        return [parse_din(item) for item in body]

    async def subscribe_din(self, din_uid: str) -> None:
        await self._request("POST", "/voice/dins/subscriptions/", {"din_uid": din_uid})

    async def set_din_action_url(self, din_uid: str, action_url: str) -> None:
        await self._request(
            "POST", f"/voice/dins/subscriptions/{din_uid}/", {"action_url": action_url}
        )

    async def din_subscriptions(self) -> list[DinOffer]:
        body = await self._request("GET", "/voice/dins/subscriptions/")
        return [parse_din(item) for item in body]

    async def unsubscribe_din(self, din_uid: str) -> None:
        await self._request("DELETE", f"/voice/dins/subscriptions/{din_uid}/")

    async def balance(self) -> float:
        body = await self._request("GET", "/you/credits/")
        return float(body["credits"])
