"""The sandbox's HTTP face: Xoxzo's voice and SMS APIs as provider-docs describe them, and knobs."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from dialer.sandbox.documented import (
    XOXZO_SMS_MAX_CHARS,
    action_problem,
    xoxzo_sender_ok,
    xoxzo_sms_parts,
)
from dialer.sandbox.state import (
    COUNTRY_CODES,
    SMS_DELIVERING_AFTER_S,
    SMS_FAILS_ON_LAST_DIGIT,
    SMS_FINAL_AFTER_S,
    CallScript,
    SandboxAccount,
    SandboxCall,
    SandboxConference,
    SandboxConfig,
    SandboxDin,
    SandboxMessage,
)
from dialer.sandbox.voxology import inbound_message_payload, voxology_error, voxology_router
from dialer.sandbox.voxology_calls import voxology_calls_router
from dialer.sandbox.voxology_numbers import voxology_numbers_router

__all__ = ["create_sandbox_app"]

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CALLER = re.compile(r"^\+?[0-9]{1,15}$")
# Xoxzo: "The URL can ONLY contain ascii letters or digits, underscores, slash or hyphens."
_RECORDING_URL = re.compile(r"^http://[A-Za-z0-9.\-]+(:[0-9]+)?(/[A-Za-z0-9_\-/.]*)?$")
_TTS_LANGS = {"ja", "en"}


def _looks_like_mp3(data: bytes) -> bool:
    """An MPEG Layer III frame header where the audio starts, after an ID3v2 tag if any: what a
    player checks before it plays (the sandbox decodes nothing)."""
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size
    head = data[start : start + 2]
    return len(head) == 2 and head[0] == 0xFF and head[1] & 0xE6 == 0xE2


_REQUIRED = "This field is required."


def _not_found() -> HTMLResponse:
    return HTMLResponse("<h1>Not Found</h1><p>The requested resource was not found.</p>", 404)


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"detail": "Invalid sid/token"},
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="api"'},
    )


def _credentials_ok(request: Request, config: SandboxConfig) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        sid, _, token = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return sid == config.sid and token == config.auth_token


def _validate_playback(form: dict[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    caller, recipient = form.get("caller", ""), form.get("recipient", "")
    if not caller:
        errors["caller"] = [_REQUIRED]
    elif not _CALLER.match(caller):
        errors["caller"] = ["Enter a valid caller number."]
    if not recipient:
        errors["recipient"] = [_REQUIRED]
    elif not _E164.match(recipient):
        errors["recipient"] = ["Enter a valid E.164 phone number."]
    recording_url, tts_message = form.get("recording_url", ""), form.get("tts_message", "")
    if recording_url:
        if recording_url.startswith("https://"):
            errors["recording_url"] = ["https is not supported."]
        elif not _RECORDING_URL.match(recording_url):
            errors["recording_url"] = ["Enter a valid URL."]
    elif not tts_message:
        errors["recording_url"] = [_REQUIRED]
    elif form.get("tts_lang", "") not in _TTS_LANGS:
        errors["tts_lang"] = [
            f"Select a valid choice. {form.get('tts_lang', '')!r} is not one of "
            "the available choices."
        ]
    callbackurl = form.get("callbackurl", "")
    if callbackurl and not callbackurl.startswith(("http://", "https://")):
        errors["callbackurl"] = ["Enter a valid URL."]
    return errors


def _validate_conference(form: dict[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    caller = form.get("caller", "")
    if not caller:
        errors["caller"] = [_REQUIRED]
    elif not _CALLER.match(caller):
        errors["caller"] = ["Enter a valid caller number."]
    participants = [p.strip() for p in form.get("participants", "").split(",") if p.strip()]
    if not participants:
        errors["participants"] = [_REQUIRED]
    elif not 2 <= len(participants) <= 3:
        errors["participants"] = ["A conference has 2 or 3 participants."]
    elif not all(_E164.match(p) for p in participants):
        errors["participants"] = ["Enter valid E.164 phone numbers, separated by commas."]
    if form.get("lang", "ja") not in _TTS_LANGS:
        errors["lang"] = [
            f"Select a valid choice. {form['lang']!r} is not one of the available choices."
        ]
    return errors


def _not_enough_credits(config: SandboxConfig) -> JSONResponse | None:
    if config.balance >= config.min_credits:
        return None
    return JSONResponse(
        {"non_field_errors": [f"Not enough credits, required: {config.min_credits:g}"]},
        status_code=403,
    )


def _validate_sms(form: dict[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    message, recipient, sender = (form.get(k, "") for k in ("message", "recipient", "sender"))
    if not message:
        errors["message"] = [_REQUIRED]
    elif len(message) > XOXZO_SMS_MAX_CHARS:
        errors["message"] = ["Message too long"]
    if not recipient:
        errors["recipient"] = [_REQUIRED]
    elif not _E164.match(recipient):
        errors["recipient"] = ["Enter a valid E.164 phone number."]
    if not sender:
        errors["sender"] = [_REQUIRED]
    elif not xoxzo_sender_ok(sender):
        errors["sender"] = ["Enter a valid sender: up to 10 letters and digits, or a number."]
    callbackurl = form.get("callbackurl", "")
    if callbackurl and not callbackurl.startswith(("http://", "https://")):
        errors["callbackurl"] = ["Enter a valid URL."]
    return errors


# Callbacks in flight at once. Thousands of calls ending together against a slow receiver would
# otherwise queue inside httpcore's pool, whose bookkeeping is quadratic in that queue: the
# sandbox spun at 100% CPU with every callback stalled (a 10,000-contact run).
_CALLBACKS_AT_ONCE = 16


class _BoundedTransport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=_CALLBACKS_AT_ONCE)
        )
        self._turns = asyncio.Semaphore(_CALLBACKS_AT_ONCE)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._turns:
            response = await self._inner.handle_async_request(request)
            await response.aread()
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _throttled(wait: int) -> JSONResponse:
    unit = "second" if wait == 1 else "seconds"
    return JSONResponse(
        {"detail": f"Request was throttled. Expected available in {wait} {unit}."},
        status_code=429,
        headers={"Retry-After": str(wait)},
    )


# No knob goes past this: seconds, balances and rates alike.
_MOST_KNOB = 1e9


def _knobs(body: Any) -> dict[str, float]:
    """The knobs a request sets, each a number from 0 (a share: up to 1); ValueError names
    what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("the body is a JSON object of knobs")
    unknown = sorted(set(body) - set(SandboxConfig.KNOBS))
    if unknown:
        raise ValueError(f"unknown knobs: {', '.join(unknown)}")
    changes: dict[str, float] = {}
    for name, value in body.items():
        if not isinstance(value, int | float) or not 0 <= value <= _MOST_KNOB:
            raise ValueError(f"{name}: a number from 0 to {_MOST_KNOB:g}")
        if name.endswith("_rate") and name != "rate" and value > 1:
            raise ValueError(f"{name}: a share, from 0 to 1")
        changes[name] = float(value)
    return changes


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    account = SandboxAccount(config or SandboxConfig())
    tasks: set[asyncio.Task[None]] = set()
    holder: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10, transport=_BoundedTransport()) as client:
            holder["client"] = client
            yield
            for task in tasks:
                task.cancel()

    app = FastAPI(
        title="dialer sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.account = account

    def scaled(seconds: float) -> float:
        return seconds * account.config.time_scale

    @app.middleware("http")
    async def provider_gate(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if path.startswith("/v1/") and account.voxology_throttle_wait() is not None:
            return voxology_error(429, 400429, "Too Many Requests")
        if path.startswith(("/_sandbox/", "/v1/")):
            # The sandbox's own knobs, and Voxology, which authenticates in its own way.
            return await call_next(request)
        if not path.endswith("/"):
            # Django's APPEND_SLASH: GETs are redirected; other methods cannot be.
            if request.method == "GET":
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"{path}/{query}", status_code=301)
            return _not_found()
        if not _credentials_ok(request, account.config):
            return _unauthorized()
        await _on_the_way()
        wait = account.throttle_wait(f"{request.method} {path}")
        answer = _throttled(wait) if wait is not None else await call_next(request)
        await _on_the_way()
        return answer

    async def _on_the_way() -> None:
        jitter = account.config.network_jitter_s
        if jitter > 0:
            await asyncio.sleep(account.random.uniform(0, jitter))

    def spawn(work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def call_back(url: str | None, status: dict[str, Any], deliveries: list[int]) -> None:
        """POST a status to a callback URL, form-encoded, until it answers 200 (ten tries)."""
        if not url or account.chance(account.config.callback_drop_rate):
            return
        form = {k: "" if v is None else str(v) for k, v in status.items()}
        form["tags"] = ",".join(status["tags"])
        config = account.config
        if config.callback_delay_s:
            await asyncio.sleep(account.random.uniform(0, config.callback_delay_s))
        copies = 2 if account.chance(config.callback_duplicate_rate) else 1
        for attempt in range(config.callback_attempts):
            try:
                if account.chance(config.callback_loss_rate):
                    raise httpx.ConnectError("lost on the way (sandbox fault)")
                answer = await holder["client"].post(url, data=form)
                deliveries.append(answer.status_code)
                if answer.status_code == 200:
                    copies -= 1
                    if copies == 0:
                        return
                    continue
            except httpx.HTTPError:
                deliveries.append(0)
            await asyncio.sleep(scaled(min(2.0**attempt, 600.0)))

    async def run_call(call: SandboxCall, base_url: str) -> None:
        await asyncio.sleep(scaled(call.script.ring_s))
        if call.recording_url and call.script.status == "ANSWERED":
            if account.config.fetch_recordings:
                call.play_error = await fetch_recording(call)
            if call.play_error is not None:
                call.script = CallScript("FAILED", ring_s=call.script.ring_s, talk_s=0)
        await asyncio.sleep(scaled(call.script.talk_s))
        account.finish(call)
        await call_back(call.callbackurl, call.as_status(base_url), call.callback_deliveries)

    async def fetch_recording(call: SandboxCall) -> str | None:
        """Why the call's recording cannot be played, if it cannot."""
        assert call.recording_url is not None
        try:
            answer = await holder["client"].get(call.recording_url, timeout=10)
        except httpx.HTTPError as exc:
            return f"recording not fetched: {exc!r}"
        if answer.status_code != 200:
            return f"recording not fetched: HTTP {answer.status_code}"
        if not _looks_like_mp3(answer.content):
            return "recording is not MP3 audio"
        call.played_bytes = len(answer.content)
        return None

    async def run_message(sms: SandboxMessage, base_url: str) -> None:
        await asyncio.sleep(scaled(SMS_DELIVERING_AFTER_S))
        sms.status = "DELIVERING"
        await asyncio.sleep(scaled(SMS_FINAL_AFTER_S - SMS_DELIVERING_AFTER_S))
        failed = sms.recipient.endswith(SMS_FAILS_ON_LAST_DIGIT)
        sms.status = "FAILED" if failed else "DELIVERED"
        await call_back(sms.callbackurl, sms.as_status(base_url), sms.callback_deliveries)

    @app.post("/voice/simple/playbacks/")
    async def simple_playback(request: Request) -> Response:
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        errors = _validate_playback(form)
        if errors:
            return JSONResponse(errors, status_code=400)
        refusal = _not_enough_credits(account.config)
        if refusal is not None:
            return refusal
        if account.chance(account.config.throttle_rate):
            return _throttled(1)
        tags = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
        call = account.place(
            caller=form["caller"],
            recipient=form["recipient"],
            tags=tags,
            callbackurl=form.get("callbackurl") or None,
            tts=not form.get("recording_url"),
        )
        call.recording_url = form.get("recording_url") or None
        spawn(run_call(call, str(request.base_url).rstrip("/")))
        if account.config.post_delay_s:
            await asyncio.sleep(account.config.post_delay_s)
        if account.chance(account.config.post_timeout_rate):
            await asyncio.sleep(account.config.post_hang_s)
        if account.chance(account.config.post_5xx_rate):
            return HTMLResponse("<h1>Bad Gateway</h1>", status_code=502)
        return JSONResponse([{"callid": call.callid}], status_code=201)

    @app.post("/voice/simple/conferences/")
    async def simple_conference(request: Request) -> Response:
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        errors = _validate_conference(form)
        if errors:
            return JSONResponse(errors, status_code=400)
        refusal = _not_enough_credits(account.config)
        if refusal is not None:
            return refusal
        base_url = str(request.base_url).rstrip("/")
        calls = [
            account.place(
                caller=form["caller"],
                recipient=participant.strip(),
                tags=[],
                callbackurl=None,
                tts=False,
                call_type="simple/conferences",
            )
            for participant in form["participants"].split(",")
        ]
        conference = SandboxConference(
            conferenceid=str(uuid.uuid4()),
            caller=form["caller"],
            lang=form.get("lang", "ja"),
            calls=calls,
        )
        account.conferences[conference.conferenceid] = conference
        for call in calls:
            spawn(run_call(call, base_url))
        return JSONResponse(
            {
                "conferenceid": conference.conferenceid,
                "participants": [{"callid": c.callid, "participant": c.recipient} for c in calls],
            },
            status_code=201,
        )

    @app.get("/voice/simple/conferences/{conferenceid}/")
    async def conference_status(conferenceid: str, request: Request) -> Response:
        conference = account.conferences.get(conferenceid)
        if conference is None:
            return _not_found()
        return JSONResponse(conference.as_status(str(request.base_url).rstrip("/")))

    @app.post("/sms/messages/")
    async def send_sms(request: Request) -> Response:
        form = {k: str(v).strip() for k, v in (await request.form()).items()}
        errors = _validate_sms(form)
        if errors:
            return JSONResponse(errors, status_code=400)
        parts = xoxzo_sms_parts(form["message"])
        if account.config.balance < parts * account.config.sms_cost_per_part:
            needed = f"{parts * account.config.sms_cost_per_part:g}"
            return JSONResponse(
                {"non_field_errors": [f"Not enough credits, required: {needed}"]}, status_code=403
            )
        sms = account.accept_message(
            recipient=form["recipient"],
            sender=form["sender"],
            message=form["message"],
            parts=parts,
            tags=[t.strip() for t in form.get("tags", "").split(",") if t.strip()],
            callbackurl=form.get("callbackurl") or None,
        )
        spawn(run_message(sms, str(request.base_url).rstrip("/")))
        return JSONResponse([{"msgid": sms.msgid}], status_code=201)

    @app.get("/sms/messages/{msgid}/")
    async def message_status(msgid: str, request: Request) -> Response:
        sms = account.messages.get(msgid)
        if sms is None:
            return _not_found()
        return JSONResponse(sms.as_status(str(request.base_url).rstrip("/")))

    def subscribed(din_uid: str) -> SandboxDin | None:
        din = account.dins.get(din_uid)
        return din if din is not None and din.subscribed else None

    @app.get("/voice/dins/")
    async def search_dins(country: str = "", prefix: str = "") -> list[dict[str, Any]]:
        code = COUNTRY_CODES.get(country.upper()) if country else None
        return [
            din.as_json()
            for din in account.dins.values()
            if not din.subscribed
            and (not country or din.country_code == code)
            and din.din.startswith(prefix)
        ]

    @app.post("/voice/dins/subscriptions/")
    async def subscribe_din(request: Request) -> Response:
        din_uid = str((await request.form()).get("din_uid", "")).strip()
        din = account.dins.get(din_uid)
        if not din_uid:
            return JSONResponse({"din_uid": [_REQUIRED]}, status_code=400)
        if din is None:
            return JSONResponse({"din_uid": ["Invalid din_uid."]}, status_code=400)
        if din.subscribed:
            return JSONResponse({"din_uid": ["This DIN is already subscribed."]}, status_code=400)
        if account.config.balance < din.monthly_cost:
            return JSONResponse(
                {"non_field_errors": [f"Not enough credits, required: {din.monthly_cost:g}"]},
                status_code=403,
            )
        account.config.balance -= din.monthly_cost
        din.subscribed = True
        return JSONResponse(din.as_json(), status_code=201)

    @app.get("/voice/dins/subscriptions/")
    async def din_subscriptions() -> list[dict[str, Any]]:
        return [
            {**d.as_json(), "action_url": d.action_url}
            for d in account.dins.values()
            if d.subscribed
        ]

    @app.post("/voice/dins/subscriptions/{din_uid}/")
    async def set_action_url(din_uid: str, request: Request) -> Response:
        din = subscribed(din_uid)
        if din is None:
            return _not_found()
        url = str((await request.form()).get("action_url", "")).strip()
        if not url.startswith(("http://", "https://")):
            return JSONResponse({"action_url": ["Enter a valid URL."]}, status_code=400)
        din.action_url = url
        return JSONResponse({**din.as_json(), "action_url": url})

    @app.delete("/voice/dins/subscriptions/{din_uid}/")
    async def unsubscribe_din(din_uid: str) -> Response:
        din = subscribed(din_uid)
        if din is None:
            return _not_found()
        din.subscribed, din.action_url = False, None
        return Response(status_code=204)

    @app.get("/voice/calls/{callid}/")
    async def call_status(callid: str, request: Request) -> Response:
        call = account.calls.get(callid)
        if call is None:
            return _not_found()
        return JSONResponse(call.as_status(str(request.base_url).rstrip("/")))

    @app.get("/you/credits/")
    async def credits() -> dict[str, float]:
        return {"credits": round(account.config.balance, 2)}

    @app.get("/_sandbox/calls")
    async def list_calls() -> list[dict[str, Any]]:
        return [
            {**call.as_status(""), "callback_deliveries": call.callback_deliveries}
            for call in account.calls.values()
        ]

    @app.get("/_sandbox/messages")
    async def list_messages() -> list[dict[str, Any]]:
        return [
            {
                **sms.as_status(""),
                "message": sms.message,
                "parts": sms.parts,
                "callback_deliveries": sms.callback_deliveries,
            }
            for sms in account.messages.values()
        ]

    app.include_router(voxology_router(account, lambda: holder["client"], spawn, scaled))
    app.include_router(voxology_calls_router(account, lambda: holder["client"], spawn, scaled))
    app.include_router(voxology_numbers_router(account, scaled))

    @app.get("/_sandbox/voxology/messages")
    async def list_voxology_messages() -> list[dict[str, Any]]:
        return [
            {**sms.as_json(), "webhook_deliveries": sms.webhook_deliveries}
            for sms in account.voxology_messages.values()
        ]

    @app.post("/_sandbox/voxology/inbound-sms")
    async def inbound_sms(request: Request) -> Response:
        """Someone texts one of the account's numbers: its SMS callback gets the message."""
        body = await request.json()
        number, sender = str(body.get("to", "")), str(body.get("from", ""))
        callback = (account.voxology_configs.get(number) or {}).get("callback_sms")
        if not callback or not callback.get("url"):
            return JSONResponse({"detail": f"{number} has no SMS callback configured"}, 404)
        message = inbound_message_payload(
            number, sender, str(body.get("text", "")), body.get("created_on")
        )
        answer = await holder["client"].post(
            callback["url"], json=message, headers=dict(callback.get("headers") or {})
        )
        return JSONResponse({"status_code": answer.status_code, "message": message})

    @app.post("/_sandbox/voxology/inbound-call")
    async def voxology_inbound_call(request: Request) -> Response:
        """Someone calls one of the account's Voxology numbers: the call runs its flow to the
        end; what the caller heard, and where the call was transferred, come back."""
        body = await request.json()
        call = await account.voxology_ring_in(str(body.get("to", "")), str(body.get("from", "")))
        if call is None:
            return JSONResponse({"detail": "that number has no call-flow configuration"}, 404)
        return JSONResponse(
            {
                "call_id": call.id,
                "heard": call.heard,
                "transferred_to": call.transferred_to,
                "error_code": call.error_code,
                "error": call.error,
                "callbacks": call.callbacks,
            }
        )

    @app.post("/_sandbox/inbound")
    async def inbound_call(request: Request) -> Response:
        """Someone calls a subscribed DIN: ask its action URL what to do, check the answer."""
        body = await request.json()
        number, caller = str(body.get("din", "")).lstrip("+"), str(body.get("caller", ""))
        din = next((d for d in account.dins.values() if d.subscribed and d.din == number), None)
        if din is None or not din.action_url:
            return JSONResponse({"detail": "no subscribed DIN with an action URL"}, 404)
        # As documented: "GET /command/?caller=+8180...&recipient=+8150...", "+" unescaped.
        separator = "&" if "?" in din.action_url else "?"
        url = f"{din.action_url}{separator}caller={caller}&recipient=+{din.din}"
        answer = await holder["client"].get(url)
        result: dict[str, Any] = {"status_code": answer.status_code, "answer": answer.text}
        problem = action_problem(answer.text)
        if problem is None:
            result["valid"] = answer.status_code == 200
        else:
            result.update(valid=False, problem=problem)
        return JSONResponse(result)

    @app.get("/_sandbox/traffic")
    async def traffic() -> list[dict[str, Any]]:
        """Each request counted against `rate`: when, what, and whether it was let through."""
        return [
            {"at": at, "request": what, "accepted": accepted}
            for at, what, accepted in account.traffic
        ]

    @app.get("/_sandbox/knobs")
    async def get_knobs() -> dict[str, Any]:
        return {**account.config.public(), "throttled": account.throttled}

    @app.post("/_sandbox/knobs")
    async def set_knobs(request: Request) -> Response:
        try:
            changes = _knobs(json.loads(await request.body()))
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, 422)
        for name, value in changes.items():
            setattr(account.config, name, value)
        return JSONResponse(account.config.public())

    return app
