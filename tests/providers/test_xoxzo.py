"""The Xoxzo adapter against httpx.MockTransport: requests it sends, answers it maps."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    CallRequest,
    ConferenceRequest,
    InsufficientCredit,
    NotFound,
    NotSent,
    ProviderError,
    RateLimited,
    Rejected,
    SmsRequest,
    Transient,
)
from dialer.providers.xoxzo import (
    SMS_STATUS_OUTCOMES,
    STATUS_ERRORS,
    STATUS_OUTCOMES,
    TRANSPORT_ERRORS,
    XoxzoProvider,
    map_http_error,
    map_transport_error,
    parse_message_status,
)
from dialer.vocabulary import Outcome

Handler = Callable[[httpx.Request], httpx.Response]
TTS = CallRequest(
    caller="+81312345678",
    recipient="+819012345670",
    callback_url="http://127.0.0.1/cb/1/tok",
    tag="attempt-1",
    tts_message="Hello",
    tts_lang="en",
)


def _provider(handler: Handler) -> XoxzoProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return XoxzoProvider(client, sid="AC1", auth_token="tok", base_url="https://xoxzo.test/")


def _respond(
    status: int, body: Any = None, headers: dict[str, str] | None = None, text: str | None = None
) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


async def test_tts_call_is_a_form_post_with_basic_auth_tags_and_callback() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=[{"callid": "c-1"}])

    placed = await _provider(handler).place_call(TTS)
    assert placed.provider_id == "c-1"
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://xoxzo.test/voice/simple/playbacks/"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"AC1:tok").decode()
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "caller": "+81312345678",
        "recipient": "+819012345670",
        "callbackurl": "http://127.0.0.1/cb/1/tok",
        "tags": "attempt-1",
        "tts_message": "Hello",
        "tts_lang": "en",
    }


async def test_playback_call_sends_the_recording_url_not_tts() -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(201, json=[{"callid": "c-2"}])

    request = CallRequest(
        caller="+81312345678",
        recipient="+819012345670",
        callback_url="http://127.0.0.1/cb",
        tag="attempt-2",
        recording_url="http://example.com/a.mp3",
    )
    await _provider(handler).place_call(request)
    assert seen[0]["recording_url"] == ["http://example.com/a.mp3"]
    assert "tts_message" not in seen[0]


async def test_call_status_is_parsed_with_raw_status_and_outcome() -> None:
    body = {
        "callid": "c-1",
        "recipient": "+819012345670",
        "status": "NO ANSWER",
        "start_time": "2019-03-05 01:38:10",
        "end_time": "2019-03-05 01:38:50",
        "duration": 0,
        "cost": 1,
        "tags": ["attempt-1"],
        "direction": "outbound",
        "call_type": "simple/playbacks",
        "caller": "+81312345678",
        "url": "x",
    }
    status = await _provider(_respond(200, body)).call_status("c-1")
    assert status.raw_status == "NO ANSWER"
    assert status.outcome is Outcome.no_answer
    assert status.is_final
    assert status.started_at is not None and status.started_at.isoformat() == (
        "2019-03-05T01:38:10+00:00"
    )
    assert status.cost == 1.0
    assert status.tags == ["attempt-1"]


async def test_in_progress_is_not_final() -> None:
    body = {
        "callid": "c-1",
        "status": "IN PROGRESS",
        "start_time": "2019-03-05 01:38:10",
        "end_time": None,
        "tags": [],
    }
    status = await _provider(_respond(200, body)).call_status("c-1")
    assert status.outcome is None
    assert not status.is_final


async def test_an_undocumented_status_is_not_final_and_not_a_crash() -> None:
    status = await _provider(_respond(200, {"callid": "c", "status": "RINGING"})).call_status("c")
    assert status.outcome is None and not status.is_final


async def test_credits() -> None:
    assert await _provider(_respond(200, {"credits": 1000.0})).balance() == 1000.0


@pytest.mark.parametrize(
    ("handler", "expected", "check"),
    [
        (
            _respond(400, {"recipient": ["Enter a valid E.164 phone number."]}),
            Rejected,
            lambda e: e.fields == {"recipient": ["Enter a valid E.164 phone number."]},
        ),
        (
            _respond(401, {"detail": "Invalid sid/token"}),
            AuthFailed,
            lambda e: e.message == "Invalid sid/token",
        ),
        (
            _respond(403, {"non_field_errors": ["Not enough credits, required: 40"]}),
            InsufficientCredit,
            lambda e: e.required == 40.0,
        ),
        (
            _respond(403, {"detail": "You do not have permission."}),
            AuthFailed,
            lambda e: e.status_code == 403,
        ),
        (
            _respond(429, {"detail": "Request was throttled. Expected available in 7 seconds."}),
            RateLimited,
            lambda e: e.retry_after == 7.0,
        ),
        (
            _respond(
                429,
                {"detail": "Request was throttled. Expected available in 1 second."},
                headers={"Retry-After": "3"},
            ),
            RateLimited,
            lambda e: e.retry_after == 3.0,
        ),
        (_respond(429, text="slow down"), RateLimited, lambda e: e.retry_after == 1.0),
        (_respond(502, text="<h1>Bad Gateway</h1>"), Ambiguous, lambda e: e.status_code == 502),
        (_respond(201, text="not json"), Ambiguous, lambda e: "unreadable" in e.message),
        (_respond(201, {"unexpected": True}), Ambiguous, lambda e: "without a callid" in e.message),
        (_respond(418, {"detail": "teapot"}), Rejected, lambda e: e.status_code == 418),
    ],
)
async def test_place_call_errors(
    handler: Handler, expected: type[ProviderError], check: Callable[[Any], bool]
) -> None:
    with pytest.raises(expected) as caught:
        await _provider(handler).place_call(TTS)
    assert check(caught.value)


async def test_unknown_call_is_not_found_even_with_an_html_body() -> None:
    with pytest.raises(NotFound):
        await _provider(_respond(404, text="<h1>Not Found</h1>")).call_status("nope")


async def test_a_5xx_on_a_get_is_transient_not_ambiguous() -> None:
    with pytest.raises(Transient):
        await _provider(_respond(503, text="down")).call_status("c-1")


def _raiser(exc: Exception) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "on_post", "on_get"),
    [
        (httpx.ConnectError("refused"), Transient, Transient),
        (httpx.ConnectTimeout("slow connect"), Transient, Transient),
        (httpx.ReadTimeout("slow answer"), Ambiguous, Transient),
        (httpx.WriteTimeout("slow send"), Ambiguous, Transient),
        (httpx.ReadError("reset"), Ambiguous, Transient),
        (httpx.RemoteProtocolError("garbled"), Ambiguous, Transient),
    ],
)
async def test_transport_errors(
    exc: Exception, on_post: type[ProviderError], on_get: type[ProviderError]
) -> None:
    with pytest.raises(on_post):
        await _provider(_raiser(exc)).place_call(TTS)
    with pytest.raises(on_get):
        await _provider(_raiser(exc)).call_status("c-1")


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


@pytest.mark.parametrize(
    "cls",
    sorted(
        _all_subclasses(httpx.TransportError) | {httpx.TransportError}, key=lambda c: c.__name__
    ),
)
def test_every_httpx_transport_error_is_mapped(cls: type[httpx.TransportError]) -> None:
    exc = cls("boom")
    post, get = map_transport_error(exc, is_post=True), map_transport_error(exc, is_post=False)
    assert isinstance(get, Transient)
    never_sent = any(isinstance(exc, c) for c, maybe_sent in TRANSPORT_ERRORS if not maybe_sent)
    assert isinstance(post, Transient if never_sent else Ambiguous)


@pytest.mark.parametrize("status_code", sorted(STATUS_ERRORS))
def test_every_row_of_the_status_table_builds_a_provider_error(status_code: int) -> None:
    response = httpx.Response(status_code, json={"detail": "x"})
    for is_post in (True, False):
        error = map_http_error(response, is_post=is_post)
        assert isinstance(error, ProviderError)
        assert error.status_code == status_code


def test_not_sent_errors_are_the_only_safe_retries() -> None:
    for cls in (RateLimited, InsufficientCredit, AuthFailed, Transient):
        assert issubclass(cls, NotSent)
    for cls in (Rejected, NotFound, Ambiguous):
        assert not issubclass(cls, NotSent)


def test_every_documented_call_status_has_an_outcome_row() -> None:
    assert {"ANSWERED", "FAILED", "IN PROGRESS", "NO ANSWER"} <= set(STATUS_OUTCOMES)


SMS = SmsRequest(
    sender="DIALER",
    recipient="+819012345670",
    message="Your code is 1234",
    callback_url="http://127.0.0.1/cb/sms/1/tok",
    tag="attempt-1",
)


async def test_sms_is_a_form_post_and_counts_its_parts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=[{"msgid": "m-1"}])

    placed = await _provider(handler).send_sms(SMS)
    assert placed.provider_id == "m-1" and placed.parts == 1
    assert str(seen[0].url) == "https://xoxzo.test/sms/messages/"
    form = {k: v[0] for k, v in parse_qs(seen[0].content.decode()).items()}
    assert form == {
        "message": "Your code is 1234",
        "recipient": "+819012345670",
        "sender": "DIALER",
        "callbackurl": "http://127.0.0.1/cb/sms/1/tok",
        "tags": "attempt-1",
    }


async def test_sms_status_fields_as_documented() -> None:
    body = {
        "msgid": "m-1",
        "recipient": "+819012345670",
        "sender": "DIALER",
        "status": "DELIVERED",
        "cost": 5,
        "sent_time": "2026-11-23 09:00:00",
        "url": "https://xoxzo.test/sms/messages/m-1/",
        "tags": ["attempt-1"],
    }
    report = await _provider(_respond(200, body)).message_status("m-1")
    assert (report.provider_id, report.raw_status, report.outcome) == (
        "m-1",
        "DELIVERED",
        Outcome.delivered,
    )
    assert report.cost == 5.0 and report.tags == ["attempt-1"]


@pytest.mark.parametrize(
    ("raw", "outcome"),
    [
        ("QUEUED", None),
        ("DELIVERING", None),
        ("DELIVERED", Outcome.delivered),
        ("OK", Outcome.delivered),
        ("FAILED", Outcome.failed),
        ("FAIL", Outcome.failed),
        ("SOMETHING", None),  # undocumented: not final
    ],
)
def test_sms_statuses(raw: str, outcome: Outcome | None) -> None:
    assert parse_message_status({"msgid": "m", "status": raw}).outcome == outcome
    assert (raw in SMS_STATUS_OUTCOMES) or outcome is None


async def test_sms_errors_map_like_calls() -> None:
    with pytest.raises(Rejected) as caught:
        await _provider(_respond(400, {"message": ["Message too long"]})).send_sms(SMS)
    assert caught.value.fields == {"message": ["Message too long"]}
    with pytest.raises(Ambiguous):
        await _provider(_respond(201, [{}])).send_sms(SMS)


# xoxzo-voice-api.txt, "Simple Conference API": the documented 201 and status bodies.
CONFERENCE_CREATED = {
    "conferenceid": "<conferenceid>",
    "participants": [
        {"callid": "<callid1>", "participant": "<participant1>"},
        {"callid": "<callid2>", "participant": "<participant2>"},
    ],
}
CONFERENCE_STATUS = {
    "cost": 65,
    "participants": [
        {
            "status": "ANSWERED",
            "recipient": "<recipent1>",
            "cost": 50,
            "caller": "<caller>",
            "callid": "<callid1>",
            "start_time": "2017-10-31 01:17:50",
            "url": "https://api.xoxzo.com/voice/calls/<callid1>/",
            "end_time": "2017-10-31 01:18:00",
            "duration": 1,
        },
        {
            "status": "ANSWERED",
            "recipient": "<recipent2>",
            "cost": 15,
            "caller": "<caller>",
            "callid": "<callid2>",
            "start_time": "2017-10-31 01:17:50",
            "url": "https://api.xoxzo.com/voice/calls/<callid2>/",
            "end_time": "2017-10-31 01:18:09",
            "duration": 2,
        },
    ],
    "conferenceid": "<conferenceid>",
    "start_time": "2017-10-31 01:17:50",
    "end_time": "2017-10-31 01:18:09",
    "duration": 2,
}


async def test_a_conference_posts_the_documented_form_and_reads_each_call_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=CONFERENCE_CREATED)

    request = ConferenceRequest(
        caller="+8190123456789", participants=("+8190123456789", "+8190123456780"), lang="en"
    )
    placed = await _provider(handler).start_conference(request)
    assert placed.conference_id == "<conferenceid>"
    assert placed.calls == {"<participant1>": "<callid1>", "<participant2>": "<callid2>"}
    [sent] = seen
    assert str(sent.url) == "https://xoxzo.test/voice/simple/conferences/"
    assert parse_qs(sent.content.decode()) == {
        "caller": ["+8190123456789"],
        "participants": ["+8190123456789,+8190123456780"],
        "lang": ["en"],
    }


async def test_the_documented_conference_status_gives_each_participant_s_call() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CONFERENCE_STATUS)

    legs = await _provider(handler).conference_status("<conferenceid>")
    assert seen == ["https://xoxzo.test/voice/simple/conferences/%3Cconferenceid%3E/"]
    assert [(leg.provider_id, leg.outcome, leg.cost) for leg in legs] == [
        ("<callid1>", Outcome.answered, 50),
        ("<callid2>", Outcome.answered, 15),
    ]
    assert legs[1].duration_s == 2


async def test_a_conference_answer_without_call_ids_is_ambiguous() -> None:
    request = ConferenceRequest(caller="+81", participants=("+81", "+82"), lang="ja")
    with pytest.raises(Ambiguous):
        await _provider(_respond(201, {"conferenceid": "c"})).start_conference(request)
