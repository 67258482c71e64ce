"""The sandbox's Voxology call platform: caller-ID callback configuration, Dials/Connect,
LiveCalls and call logs, and the callback-response loop that runs the flows it is given.

A call's fate is set by the dialled number, so every run is the same:

    last digit      0-4: a person answers   5: voicemail   6: no-answer   7: busy   8: failed
                    9: a person answers
    the digits before it, right to left: the key pressed at each COLLECT the call reaches, in
                    order (the second to last digit at the first COLLECT, the third to last at
                    the second, ...); 8, or no digit left, presses nothing (the COLLECT times out)

A TRANSFER rings its number, whose last digit sets what happens as above: a person (or a
machine, 5) talks for a while, then the flow goes on; no-answer, busy and failed go on at once.

Each callback response runs in order; once it runs out (no HANGUP), the call asks for more with
a live_call, whose key_presses hold every COLLECT's keys so far. An answer of no actions hangs
up (the reference leaves it unsaid; a 204 does, documented).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from dialer.sandbox.state import SandboxAccount
from dialer.sandbox.voxology import voxology_error

__all__ = ["CALL_FATES", "VoxologyCall", "voxology_calls_router"]

CALL_FATES: dict[str, tuple[str, str | None]] = {
    **{d: ("completed", "live_person") for d in "012349"},
    "5": ("completed", "voicemail"),
    "6": ("no-answer", None),
    "7": ("busy", None),
    "8": ("failed", None),
}
# A COLLECT given this digit by the dialled number waits for a key that never comes.
NO_KEY = "8"
# Provider seconds each step takes, before the time scale.
RING_S, SPEAK_S, BEEP_S, CONFERENCE_S = 4.0, 2.0, 3.0, 10.0
_MAX_JUMPS = 20
# Callback responses one call may run through before the sandbox calls it a runaway flow.
_MAX_LOOPS = 60
_WATSON_ONLY = frozenset(
    {"englishUS", "englishGB", "french", "german", "italian", "japanese", "portuguese", "spanish"}
)
# The reference's hard limit on a callback response, whitespace removed.
HARD_LIMIT_BYTES = 81_000


_HOUR = timedelta(hours=1)
# Dials/Connect's optional numbers, seconds: ring time and call length.
_BOUNDS = {"timeout": (20, 240), "max_call_time": (60, 172_800)}


def _within(value: object, low: int, high: int) -> bool:
    if value is None:
        return True
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


class _Hangup(Exception):
    pass


class _FlowError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class VoxologyCall:
    id: str
    no: str
    caller_id_no: str
    session_data: dict[str, Any]
    callback: dict[str, Any] | None
    failover: dict[str, Any] | None = None
    # Dials/Connect's ring time and call length, seconds, as asked.
    timeout: float | None = None
    max_call_time: float | None = None
    status: str = "live-queued"
    detection: str | None = None
    start_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    connected_at: datetime | None = None
    end_time: datetime | None = None
    key_presses: list[dict[str, Any]] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    sms_sent: list[str] = field(default_factory=list)
    conference: str | None = None
    transferred_to: str | None = None
    # Each TRANSFER: the number rung and what became of it (a status word of the reference).
    transfers: list[tuple[str, str]] = field(default_factory=list)
    collects: int = 0
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    direction: str = "outbound"
    error_code: int | None = None
    error: str | None = None
    callbacks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def charge(self) -> float:
        """Two cents a started minute once connected; nothing for a call that never was."""
        if self.connected_at is None:
            return 0.0
        return round(0.02 * max(1, -(-self.connect_time_sec // 60)), 4)

    @property
    def connect_time_sec(self) -> int:
        if self.connected_at is None:
            return 0
        end = self.end_time or datetime.now(UTC)
        return int((end - self.connected_at).total_seconds())

    def payload(self, kind: str, *, webhook: bool = False) -> dict[str, Any]:
        end = self.end_time or datetime.now(UTC)
        return {
            "service": "programmable_voice",
            "type": kind,
            "is_webhook": "true" if webhook else "false",
            "app_id": "sandbox-app",
            "subaccount_id": 0,
            "call_id": self.id,
            "parent_call_id": None,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "direction": self.direction,
            "duration": int((end - self.start_time).total_seconds() * 1000),
            "connect_time_sec": self.connect_time_sec,
            "status": self.status,
            "detection": self.detection,
            "caller_no": self.no,
            "api_no": self.caller_id_no,
            "key_presses": self.key_presses,
            "recordings": [],
            "custom_data": None,
            "session_data": self.session_data,
            "error_code": self.error_code,
            "error": self.error,
        }

    def as_live(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "no": self.no,
            "caller_id_no": self.caller_id_no,
            "app_id": "sandbox-app",
            "status": self.status,
            "detection": self.detection,
            "date": _iso(self.connected_at or self.start_time),
            "session_data": self.session_data,
            "connected_time": self.connect_time_sec * 1000,
            "error": self.error,
            "subaccount_id": 0,
        }

    def as_log(self) -> dict[str, Any]:
        return {
            **self.payload("log"),
            "id": uuid.uuid5(uuid.NAMESPACE_URL, self.id).hex,
            "type": "voice",
            "hangup_end": "api",
            "origin_api": "CallFlows",
            "connect_time_billed": round(self.connect_time_sec / 60, 2),
            "charge": {"total": self.charge},
        }


def voxology_calls_router(
    account: SandboxAccount,
    client: Callable[[], httpx.AsyncClient],
    spawn: Callable[[Awaitable[None]], None],
    scaled: Callable[[float], float],
) -> APIRouter:
    router = APIRouter(prefix="/v1")
    configs: dict[str, dict[str, Any]] = {}
    calls: dict[str, VoxologyCall] = {}
    account.voxology_calls = calls
    account.voxology_configs = configs
    counter = iter(range(10_000, 10**9))

    def key_ok(request: Request) -> bool:
        return request.headers.get("X-API-Key") == account.config.voxology_api_key

    async def post(
        call: VoxologyCall,
        target: Mapping[str, Any],
        kind: str,
        extra: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """One callback request to `target`; its timeout is the configuration's, 5 s unless
        set (the reference allows 1 to 15)."""
        try:
            timeout = min(max(float(target.get("timeout") or 5), 1.0), 15.0)
        except (TypeError, ValueError):
            timeout = 5.0
        headers = dict(target.get("headers") or {})
        body = {**call.payload(kind, webhook=extra is not None), **(extra or {})}
        try:
            answer = await client().post(
                str(target["url"]), json=body, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            call.callbacks.append((kind, 0))
            raise
        except httpx.HTTPError:
            call.callbacks.append((kind, 0))
            return httpx.Response(599)
        call.callbacks.append((kind, answer.status_code))
        return answer

    async def call_back(call: VoxologyCall, kind: str) -> list[Any]:
        """POST a callback request, to the failover endpoint too if the first answer is not a
        2XX; the answer's actions, or the reference's error that ends the call."""
        assert call.callback is not None  # Dials/Connect refuses a caller ID without one
        targets = [call.callback] + ([call.failover] if call.failover else [])
        answer = None
        for target in targets:
            try:
                answer = await post(call, target, kind)
            except httpx.TimeoutException as exc:
                raise _FlowError(4001, "the request to your callback url timed out") from exc
            if 200 <= answer.status_code < 300:
                break
        assert answer is not None
        if kind in {"end_call", "failed_call"}:
            return []
        if answer.status_code == 204:
            raise _Hangup
        if not 200 <= answer.status_code < 300:
            code = 400911 if kind == "init_call" else 400912
            raise _FlowError(code, f"callback answered {answer.status_code}")
        if len(re.sub(rb"\s", b"", answer.content)) > HARD_LIMIT_BYTES:
            raise _FlowError(413910, "callback response over the hard limit of 81 KB")
        try:
            actions = answer.json()["actions"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _FlowError(400913, "callback response did not contain JSON actions") from exc
        if not isinstance(actions, list):
            raise _FlowError(400913, "actions is not a list")
        return actions

    async def speak(call: VoxologyCall, text: str) -> None:
        call.heard.append(text)
        await asyncio.sleep(scaled(SPEAK_S))

    async def say(call: VoxologyCall, params: Mapping[str, Any]) -> None:
        voice, language = params.get("voice", "Kate"), params.get("language", "english")
        if voice not in ("Kate", "Kevin", "Watson"):
            raise _FlowError(400913, f"SAY voice {voice!r} is not Kate, Kevin or Watson")
        watson = voice == "Watson" or language in _WATSON_ONLY
        if watson and not account.config.voxology_watson:
            raise _FlowError(
                400913, "SAY with Watson needs IBM Watson credentials (/Integrations/TTS/Watson)"
            )
        if voice in ("Kate", "Kevin") and language != "english":
            raise _FlowError(400913, f"SAY voice {voice} speaks english, not {language!r}")
        await speak(call, str(params["text"]))

    async def fetch(url: str) -> None:
        """The audio a PLAY names, fetched as the platform would; 400931 if it cannot be."""
        try:
            answer = await client().get(url, timeout=10)
        except httpx.HTTPError as exc:
            raise _FlowError(400931, f"PLAY url could not be fetched: {exc!r}") from exc
        if answer.status_code != 200:
            raise _FlowError(400931, f"PLAY url answered {answer.status_code}")

    async def collect(call: VoxologyCall, action: Mapping[str, Any]) -> None:
        """The child actions, then the key the dialled number gives this COLLECT, if any."""
        await execute(call, action.get("actions") or [])
        call.collects += 1
        digits = call.no[1:-1]
        key = digits[-call.collects] if call.collects <= len(digits) else NO_KEY
        if key != NO_KEY:
            name = str(action.get("name") or "")
            earlier = [p for p in call.key_presses if p["name"] == name]
            history = [*earlier[0]["history"], key] if earlier else [key]
            call.key_presses = [p for p in call.key_presses if p["name"] != name]
            call.key_presses.append({"name": name, "digits": key, "history": history})
        else:
            timeout_ms = (action.get("params") or {}).get("timeout", 5000)
            await asyncio.sleep(scaled(timeout_ms / 1000))

    async def transfer(call: VoxologyCall, params: Mapping[str, Any]) -> None:
        """Ring the number and, if someone answers, hold the call while they talk."""
        no = str(params.get("no", ""))
        if not no.startswith("+") or not no[1:].isdigit():
            raise _FlowError(400913, "TRANSFER needs params.no in E.164")
        if params.get("event") == "stop":
            return
        status, detection = CALL_FATES[no[-1]]
        call.transferred_to = no
        call.transfers.append((no, "completed" if detection else status))
        if params.get("async") is True:
            return
        await asyncio.sleep(scaled(RING_S))
        if detection is not None:
            await asyncio.sleep(scaled(CONFERENCE_S))

    async def webhook(call: VoxologyCall, params: Mapping[str, Any]) -> None:
        if not params.get("event_name"):
            raise _FlowError(400913, "WEBHOOK needs params.event_name")
        assert call.callback is not None
        target = {**call.callback, **({"url": params["url"]} if params.get("url") else {})}
        extra = {"event_name": params["event_name"], "webhook_data": params.get("webhook_data")}
        call.webhooks.append(extra)

        async def send() -> None:
            with contextlib.suppress(httpx.HTTPError):
                await post(call, target, "live_call", extra)

        if params.get("await_response") is True:
            await send()
        else:
            spawn(send())

    async def execute(call: VoxologyCall, actions: list[Any]) -> None:
        labels = {
            a.get("name"): i
            for i, a in enumerate(actions)
            if isinstance(a, Mapping) and a.get("type") == "LABEL"
        }
        i, jumps = 0, 0
        while i < len(actions):
            action = actions[i]
            if not isinstance(action, Mapping):
                raise _FlowError(400913, f"action {i} is not an object")
            kind, params = action.get("type"), action.get("params") or {}
            if kind is None:  # a variable assignment: nothing to play
                pass
            elif kind == "SAY":
                await say(call, params)
            elif kind == "PLAY":
                if params.get("url") and account.config.fetch_recordings:
                    await fetch(str(params["url"]))
                await speak(call, str(params.get("url") or params.get("dtmf")))
            elif kind == "PAUSE":
                await asyncio.sleep(scaled(float(params.get("seconds", 5))))
            elif kind == "HANGUP":
                raise _Hangup
            elif kind == "SMS":
                call.sms_sent.append(str(params["message"]))
            elif kind == "SESSIONDATA":
                data = action.get("session_data")
                if not isinstance(data, Mapping):
                    raise _FlowError(400913, "SESSIONDATA needs a session_data object")
                call.session_data = dict(data)
            elif kind == "WEBHOOK":
                await webhook(call, params)
            elif kind == "TRANSFER":
                await transfer(call, params)
            elif kind == "CONFERENCE":
                call.conference = str(params["name"])
                await asyncio.sleep(scaled(CONFERENCE_S))
            elif kind == "DETECT":
                events = action.get("events") or {}
                if call.detection == "voicemail":
                    await execute(call, events.get("on_voicemail_early") or [{"type": "LABEL"}])
                    await asyncio.sleep(scaled(BEEP_S))
                    await execute(call, events["on_voicemail"])
                else:
                    await execute(call, events["on_live_person"])
            elif kind == "COLLECT":
                await collect(call, action)
            elif kind == "GOTO":
                jumps += 1
                if jumps > _MAX_JUMPS or params.get("label") not in labels:
                    raise _FlowError(400913, f"GOTO {params.get('label')!r} loops or goes nowhere")
                i = labels[params["label"]]
            elif kind != "LABEL":
                raise _FlowError(400913, f"action {kind!r} is not one the sandbox can run")
            i += 1

    async def loop(call: VoxologyCall) -> None:
        """The callback-response loop: each answer runs to its end, then the call asks again."""
        actions = await call_back(call, "init_call")
        for _ in range(_MAX_LOOPS):
            if not actions:
                raise _Hangup
            await execute(call, actions)
            actions = await call_back(call, "live_call")
        raise _FlowError(400913, f"more than {_MAX_LOOPS} callback responses in one call")

    async def run(call: VoxologyCall, fate: tuple[str, str | None]) -> None:
        status, detection = fate
        call.status = "live-ringing"
        await asyncio.sleep(scaled(RING_S))
        if status != "completed":
            call.status, call.end_time = status, datetime.now(UTC)
            await call_back_quietly(call, "failed_call")
            return
        call.status, call.detection = "live-in-progress", detection
        call.connected_at = datetime.now(UTC)
        try:
            if account.config.voxology_balance <= 0:
                raise _FlowError(2001, "account balance is $0.00")
            await loop(call)
        except _Hangup:
            pass
        except _FlowError as exc:
            call.error_code, call.error = exc.code, str(exc)
        except (KeyError, TypeError, ValueError) as exc:
            call.error_code, call.error = 400913, f"an action could not be run: {exc!r}"
        call.status, call.end_time = "completed", datetime.now(UTC)
        account.config.voxology_balance -= call.charge
        await call_back_quietly(call, "end_call")

    async def call_back_quietly(call: VoxologyCall, kind: str) -> None:
        # The call is over; nothing the answer says can change it.
        with contextlib.suppress(_FlowError, _Hangup):
            await call_back(call, kind)

    async def ring_in(number: str, caller: str) -> VoxologyCall | None:
        """Someone calls one of the account's numbers: the number's configuration is asked
        what to do, as for any call. None if the number has no configuration."""
        config = configs.get(number)
        if config is None:
            return None
        call = VoxologyCall(
            id=f"{next(counter)}@{uuid.uuid4().int % 10_000}",
            no=caller,
            caller_id_no=number,
            session_data={},
            callback=config["callback"],
            failover=config.get("callback_failover"),
            direction="inbound",
        )
        calls[call.id] = call
        await run(call, ("completed", "live_person"))
        return call

    account.voxology_ring_in = ring_in

    @router.put("/Integrations/TTS/Watson")
    async def set_watson(request: Request) -> Response:
        """IBM Watson credentials for the application: its SAY may use the Watson voices."""
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        body = await request.json()
        tts = body.get("text_to_speech") if isinstance(body, dict) else None
        if not isinstance(tts, dict) or not str(tts.get("api_key") or ""):
            return voxology_error(400, 400001, "Validation Error: text_to_speech.api_key")
        account.config.voxology_watson = True
        return JSONResponse({"text_to_speech": {"api_key": str(tts["api_key"])}})

    @router.put("/CallFlows/Configurations/PhoneNumbers/{number}")
    async def configure(number: str, request: Request) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        body = await request.json()
        callback = body.get("callback") if isinstance(body, dict) else None
        if not isinstance(callback, dict) or not str(callback.get("url", "")).startswith("http"):
            return voxology_error(400, 400001, "Validation Error: callback.url")
        configs[number] = {"no": number, **body}
        return JSONResponse(configs[number])

    @router.get("/CallFlows/Configurations/PhoneNumbers/{number}")
    async def read_configuration(number: str, request: Request) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        if number not in configs:
            return voxology_error(404, 404214, "Phone number not found")
        return JSONResponse(configs[number])

    @router.post("/Dials/Connect")
    async def connect(request: Request) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        if account.config.voxology_balance <= 0:
            return voxology_error(402, 402001, "Insufficient Funds")
        body = await request.json()
        target = body.get("call") or {}
        no, caller_id = str(target.get("no", "")), str(target.get("caller_id_no", ""))
        if not no[1:].isdigit() or not caller_id[1:].isdigit():
            return voxology_error(400, 400001, "Validation Error: call.no, call.caller_id_no")
        bounds = {"timeout": (20, 240), "max_call_time": (60, 172_800)}
        for name, (low, high) in bounds.items():
            value = body.get(name)
            if value is not None and not (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and low <= value <= high
            ):
                return voxology_error(
                    400, 400001, f"Validation Error: {name} must be {low} to {high}"
                )
        limit = account.config.voxology_max_live_calls
        if limit and sum(1 for c in calls.values() if c.end_time is None) >= limit:
            return voxology_error(429, 400378, "Too many calls")
        config = configs.get(str(body.get("override_callback_config") or caller_id))
        if config is None:
            return voxology_error(403, 403293, "Caller ID verification required")
        call = VoxologyCall(
            id=f"{next(counter)}@{uuid.uuid4().int % 10_000}",
            no=no,
            caller_id_no=caller_id,
            session_data=dict(body.get("session_data") or {}),
            callback=config["callback"],
            failover=config.get("callback_failover"),
            timeout=body.get("timeout"),
            max_call_time=body.get("max_call_time"),
        )
        calls[call.id] = call
        spawn(run(call, CALL_FATES[no[-1]]))
        return JSONResponse(
            {
                "call": {"id": call.id, "no": no, "caller_id_no": caller_id},
                "inbound_api": "CallFlows",
            },
            status_code=201,
        )

    @router.get("/LiveCalls")
    async def live_calls(request: Request, filter_on_nos: str = "") -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        wanted = {n.strip() for n in filter_on_nos.split(",") if n.strip()}
        live = [
            call.as_live()
            for call in calls.values()
            if call.end_time is None and (not wanted or call.no in wanted)
        ]
        return JSONResponse({"calls": live, "total_calls": len(live)})

    @router.get("/History/Logs/Calls")
    async def list_call_logs(
        request: Request,
        begin_date: str | None = None,
        end_date: str | None = None,
        caller_no: str | None = None,
        api_no: str | None = None,
    ) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        now = datetime.now(UTC)
        try:
            begin = datetime.fromisoformat(begin_date) if begin_date else now - _HOUR
            end = datetime.fromisoformat(end_date) if end_date else now
        except ValueError:
            return voxology_error(400, 400001, "Validation Error: begin_date, end_date")
        found = [
            call
            for call in calls.values()
            if begin <= call.start_time < end
            and caller_no in (None, call.no)
            and api_no in (None, call.caller_id_no)
        ]
        # The reference lists no session_data in the logs: matching them is by number and time.
        logs = [{k: v for k, v in c.as_log().items() if k != "session_data"} for c in found]
        return JSONResponse(
            {
                "begin_date": _iso(begin),
                "end_date": _iso(end),
                "logs": logs,
                "is_truncated": False,
                "next_block_uri": None,
            }
        )

    @router.get("/LiveCalls/{call_id}")
    async def live_call(call_id: str, request: Request) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        call = calls.get(call_id)
        if call is None or call.end_time is not None:
            return voxology_error(404, 404404, "Not Found")
        return JSONResponse(call.as_live())

    @router.get("/History/Logs/Calls/{call_id}")
    async def call_log(call_id: str, request: Request) -> Response:
        if not key_ok(request):
            return voxology_error(401, 401001, "Failed Authentication")
        call = calls.get(call_id)
        if call is None or call.end_time is None:
            return voxology_error(404, 404001, "Not Found")
        return JSONResponse(call.as_log())

    return router
