"""Voxology adapter contract: the example bodies of the API reference, vendored as fixtures
(tests/providers/fixtures/voxology, each naming its source line), against what the adapter sends
and parses."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialer.providers.base import (
    Ambiguous,
    AuthFailed,
    CallRequest,
    InsufficientCredit,
    Locked,
    Misconfigured,
    NotFound,
    ProviderError,
    RateLimited,
    Rejected,
    SentRequest,
    SmsRequest,
    Transient,
)
from dialer.providers.voxology import (
    CALL_STATUS_OUTCOMES,
    CODE_ERRORS,
    MESSAGE_STATUS_OUTCOMES,
    FlowCallback,
    VoxologyProvider,
    call_outcome,
    map_http_error,
    parse_call,
    parse_message,
    voxology_sms_parts,
)
from dialer.providers.voxology_errors import FLOW_ERRORS
from dialer.vocabulary import Outcome

FIXTURES = Path(__file__).parent / "fixtures" / "voxology"
Handler = Callable[[httpx.Request], httpx.Response]


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())["body"]
    return body


def _provider(handler: Handler, basic_auth: str | None = "account:secret") -> VoxologyProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return VoxologyProvider(
        client, api_key="KEY", base_url="https://api.voxolo.gy/v1/", basic_auth=basic_auth
    )


def _recording(status: int, body: Any) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return handler, seen


def _keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        keys.add(prefix + key)
        if isinstance(value, dict) and key != "session_data":
            keys |= _keys(value, f"{prefix}{key}.")
    return keys


async def test_dials_connect_sends_the_documented_fields_and_reads_the_call_id() -> None:
    handler, seen = _recording(201, example("dials_connect_response"))
    request = CallRequest(
        caller="+19495551212",
        recipient="+17145551212",
        callback_url="",
        tag="attempt-7",
        session_data={"name": "Bob"},
        ring_timeout_s=60,
        max_call_time_s=600,
    )
    placed = await _provider(handler).place_call(request)
    assert placed.provider_id == "1234@56"
    sent = seen[0]
    assert (sent.method, str(sent.url)) == ("POST", "https://api.voxolo.gy/v1/Dials/Connect")
    assert sent.headers["X-API-Key"] == "KEY"
    assert sent.headers["content-type"] == "application/json"
    body = json.loads(sent.content)
    assert _keys(body) <= _keys(example("dials_connect_request"))
    assert body["call"] == {"no": "+17145551212", "caller_id_no": "+19495551212"}
    assert body["session_data"] == {"name": "Bob", "tag": "attempt-7"}
    assert (body["timeout"], body["max_call_time"]) == (60, 600)


def test_the_documented_live_call_parses() -> None:
    report = parse_call(example("live_call_response"))
    assert (report.provider_id, report.raw_status, report.detection) == (
        "142877@7875",
        "completed",
        "live_person",
    )
    assert report.outcome is Outcome.answered
    assert report.started_at == datetime(2016, 9, 7, 19, 59, 8, 901000, tzinfo=UTC)


def test_the_documented_end_call_callback_parses() -> None:
    report = parse_call(example("callback_end_call"))
    assert (report.provider_id, report.raw_status, report.outcome) == (
        "12345@678",
        "completed",
        Outcome.answered,
    )
    assert report.ended_at == datetime(2016, 9, 20, 21, 32, 38, 144000, tzinfo=UTC)


async def test_an_ended_call_is_read_from_its_log_once_it_leaves_live_calls() -> None:
    log = example("call_logs_response")["logs"][0]
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        if "/LiveCalls/" in request.url.path:
            return httpx.Response(404, json={"status": 404, "code": 404404, "message": "gone"})
        return httpx.Response(200, json=log)

    report = await _provider(handler).call_status("123456@789")
    assert paths == ["/v1/LiveCalls/123456@789", "/v1/History/Logs/Calls/123456@789"]
    assert (report.outcome, report.duration_s, report.cost) == (Outcome.answered, 12, 0.1)


def _lost(**fields: Any) -> SentRequest:
    at = datetime(2016, 9, 19, 18, 0, 0, tzinfo=UTC)
    return SentRequest(
        **{
            "tag": "attempt-7",
            "session_data": {"attempt_id": 7, "token": "t"},
            "recipient": "+17145551212",
            "sender": "+19495551212",
            "sent_at": at,
            "until": at + timedelta(seconds=10),
            **fields,
        }
    )


async def test_a_lost_call_is_found_live_by_its_session_data_before_any_log_is_read() -> None:
    live = {**example("live_call_response"), "session_data": {"attempt_id": 7}}
    stranger = {**live, "id": "1@1", "session_data": {"attempt_id": 8}}
    handler, seen = _recording(200, {"calls": [stranger, live]})
    [found] = await _provider(handler).find_call(_lost())
    assert found.provider_id == live["id"]
    assert [r.url.path for r in seen] == ["/v1/LiveCalls"]
    assert seen[0].url.params["filter_on_nos"] == "+17145551212"


async def test_an_ended_call_is_matched_in_the_logs_by_number_caller_id_and_time() -> None:
    log = example("call_logs_response")["logs"][0]
    other_caller_id = {**log, "call_id": "2@2", "api_no": "+15555550100"}
    still_live = {**log, "call_id": "3@3"}
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/LiveCalls"):
            live = {**example("live_call_response"), "id": "3@3", "session_data": None}
            return httpx.Response(200, json={"calls": [live]})
        return httpx.Response(200, json={"logs": [log, other_caller_id, still_live]})

    [found] = await _provider(handler).find_call(_lost())
    assert found.provider_id == log["call_id"]
    params = requests[1].url.params
    assert (params["caller_no"], params["direction"]) == ("+17145551212", "outbound")
    assert params["begin_date"] == "2016-09-19T17:59:30+00:00"
    assert params["end_date"] == "2016-09-19T18:00:40+00:00"


async def test_no_live_call_and_no_log_means_the_provider_has_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        key = "calls" if request.url.path.endswith("/LiveCalls") else "logs"
        return httpx.Response(200, json={key: []})

    assert await _provider(handler).find_call(_lost()) == []


async def test_a_lost_message_is_found_by_our_tag_as_its_external_id() -> None:
    message = {**example("message_outbound"), "external_id": "attempt-7"}
    handler, seen = _recording(200, {"messages": [message]})
    [found] = await _provider(handler).find_message(_lost())
    assert found.provider_id == message["message_id"]
    assert seen[0].url.params["external_id"] == "attempt-7"


async def test_messages_send_the_documented_fields_and_read_the_message_id() -> None:
    handler, seen = _recording(200, example("messages_response"))
    placed = await _provider(handler).send_sms(
        SmsRequest(
            sender="+19495551212",
            recipient="+17145551212",
            message="sample message",
            callback_url="https://dialer.example/v1/callbacks/voxology/sms/1/tok",
            tag="attempt-1",
        )
    )
    assert placed.provider_id == "SMO:cc3a7cef-ffb2-4e1e-a083-64c86817deed"
    assert placed.parts == 1
    body = json.loads(seen[0].content)
    assert _keys(body) <= _keys(example("messages_request"))
    assert body["external_id"] == "attempt-1"
    assert body["status_webhook"] == {
        "url": "https://dialer.example/v1/callbacks/voxology/sms/1/tok"
    }


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("message_status_webhook", None),
        ("message_outbound", None),
        # "received" is an inbound status: for our own message it would be undocumented.
        ("message_inbound", None),
    ],
)
def test_the_documented_messages_parse(name: str, outcome: Outcome | None) -> None:
    data = example(name)
    report = parse_message(data)
    assert report.provider_id == data["message_id"]
    assert report.raw_status == data["status"]
    assert report.outcome == MESSAGE_STATUS_OUTCOMES.get(data["status"])
    if name != "message_outbound":
        assert report.outcome == outcome


async def test_number_configuration_uses_documented_fields() -> None:
    handler, seen = _recording(200, example("number_config_request"))
    await _provider(handler).configure_number(
        "+17145551213", "https://dialer.example/v1/flows/voxology", {"X-Dialer-Secret": "s"}
    )
    sent = seen[0]
    assert sent.method == "PUT"
    assert sent.url.raw_path == b"/v1/CallFlows/Configurations/PhoneNumbers/%2B17145551213"
    body = json.loads(sent.content)
    documented_top = {
        "callback",
        "callback_failover",
        "callback_sms",
        "callback_sms_failover",
        "answer_on_ring",
        "custom_data",
    }
    assert set(body) <= documented_top
    assert set(body["callback"]) <= {"url", "method", "content_type", "headers", "timeout"}
    assert set(body["callback"]) <= set(example("number_config_request")["callback"])
    assert body["callback"]["headers"] == {"X-Dialer-Secret": "s"}
    # A failed callback is asked again (the failover), with the same proof.
    assert body["callback_failover"] == body["callback"]


async def test_balance_is_account_level_basic_auth() -> None:
    handler, seen = _recording(200, example("balance_response"))
    assert await _provider(handler).balance() == 100.0
    assert seen[0].headers["Authorization"] == "Basic YWNjb3VudDpzZWNyZXQ="
    assert "X-API-Key" not in seen[0].headers
    with pytest.raises(AuthFailed, match="VOXOLOGY_BASIC_AUTH"):
        await _provider(handler, basic_auth=None).balance()


def _error(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {**example("error"), "status": status, "code": code}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "expected", "check"),
    [
        (429, 400429, RateLimited, lambda e: e.retry_after == 60.0),
        (429, 400378, RateLimited, lambda e: e.retry_after == 5.0),
        (402, 402001, InsufficientCredit, lambda e: e.required is None),
        (401, 401001, AuthFailed, lambda e: e.status_code == 401),
        (401, 401002, AuthFailed, lambda e: e.status_code == 401),
        (423, 423001, Locked, lambda e: e.retry_after == 3.0),
        (403, 403293, Rejected, lambda e: "caller ID not verified" in e.message),
        (404, 404404, NotFound, lambda e: True),
        (400, 400001, Rejected, lambda e: "400001" in e.message),
        (400, 401005, Rejected, lambda e: "authentication is possible" in e.message),
        (405, 405001, Rejected, lambda e: e.status_code == 405),
    ],
)
def test_documented_error_codes_map_into_the_tree(
    status: int, code: int, expected: type[ProviderError], check: Callable[[Any], bool]
) -> None:
    error = map_http_error(_error(status, code), is_post=True)
    assert isinstance(error, expected)
    assert check(error)


def test_retry_after_header_wins() -> None:
    error = map_http_error(_error(429, 400429, {"Retry-After": "7"}), is_post=True)
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


@pytest.mark.parametrize("code", sorted(CODE_ERRORS))
def test_every_row_of_the_code_table_builds_a_provider_error(code: int) -> None:
    assert isinstance(map_http_error(_error(code // 1000, code), is_post=False), ProviderError)


def test_5xx_is_ambiguous_for_a_post_and_transient_for_a_get() -> None:
    assert isinstance(map_http_error(_error(500, 500990), is_post=True), Ambiguous)
    assert isinstance(map_http_error(_error(500, 500990), is_post=False), Transient)


@pytest.mark.parametrize(
    ("status", "detection", "outcome"),
    [
        ("live-ringing", None, None),
        ("live-in-progress", "live_person", None),
        ("completed", "live_person", Outcome.answered),
        ("completed", "voicemail", Outcome.voicemail),
        ("completed", "fax", Outcome.failed),
        ("completed", "unknown", Outcome.answered),
        ("completed", None, Outcome.answered),
        ("no-answer", None, Outcome.no_answer),
        ("busy", None, Outcome.busy),
        ("canceled", None, Outcome.no_answer),
        ("failed", None, Outcome.failed),
        ("restricted", None, Outcome.rejected),
        ("error", None, Outcome.failed),
        ("unknown", None, Outcome.unknown),
        ("something-new", None, None),  # undocumented: not final
    ],
)
def test_call_outcomes(status: str, detection: str | None, outcome: Outcome | None) -> None:
    assert call_outcome(status, detection) == outcome


def test_every_documented_call_status_has_a_row() -> None:
    documented = {
        "live-queued",
        "live-ringing",
        "live-in-progress",
        "completed",
        "no-answer",
        "busy",
        "canceled",
        "failed",
        "restricted",
        "error",
        "unknown",
    }
    assert documented == set(CALL_STATUS_OUTCOMES)


@pytest.mark.parametrize(
    ("text", "parts"), [("", 0), ("a" * 152, 1), ("a" * 153, 2), ("é" * 66, 1), ("é" * 67, 2)]
)
def test_voxology_parts(text: str, parts: int) -> None:
    assert voxology_sms_parts(text) == parts


def _dial_request(caller: str) -> CallRequest:
    return CallRequest(
        caller=caller, recipient="+14155550113", callback_url="unused", tag="attempt-1"
    )


async def test_each_caller_id_is_pointed_at_our_flow_endpoint_once_before_its_first_call() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode()))
        if request.method == "GET":
            return httpx.Response(404, json={"code": 404214, "message": "not found"})
        if request.method == "PUT":
            return httpx.Response(200, json={})
        return httpx.Response(201, json={"call": {"id": f"{len(seen)}@1"}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    flows = FlowCallback(url="https://dialer.example/v1/flows/voxology", headers={"X-S": "s"})
    provider = VoxologyProvider(
        client, api_key="KEY", base_url="https://api.voxolo.gy/v1", flow_callback=flows
    )
    for caller in ("+14155550100", "+14155550100", "+14155550101"):
        await provider.place_call(_dial_request(caller))
    config = "/v1/CallFlows/Configurations/PhoneNumbers/%2B1415555010"
    assert seen == [
        ("GET", f"{config}0"),
        ("PUT", f"{config}0"),
        ("POST", "/v1/Dials/Connect"),
        ("POST", "/v1/Dials/Connect"),
        ("GET", f"{config}1"),
        ("PUT", f"{config}1"),
        ("POST", "/v1/Dials/Connect"),
    ]


async def test_a_failed_configuration_is_not_sent_and_dials_nobody() -> None:
    dials: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404, json={"code": 404214, "message": "not found"})
        if request.method == "PUT":
            return httpx.Response(503, json={"code": 503001, "message": "down"})
        dials.append(request)
        return httpx.Response(201, json={"call": {"id": "1@1"}})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    flows = FlowCallback(url="https://dialer.example/v1/flows/voxology", headers={})
    provider = VoxologyProvider(
        client, api_key="KEY", base_url="https://api.voxolo.gy/v1", flow_callback=flows
    )
    with pytest.raises(Transient, match="caller ID configuration"):
        await provider.place_call(_dial_request("+14155550100"))
    assert dials == []


async def test_provisioning_sends_the_documented_body_and_reads_the_documented_answer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(200, json=example("provision_numbers_response"))

    provider = _provider(handler)
    numbers = ["+19495551212", "+19495551213", "+19495551214"]
    held = await provider.provision_numbers(numbers)
    assert [n["no"] for n in held] == numbers
    assert {n["status"] for n in held} == {"routed"}
    await provider.release_numbers(numbers)
    post, delete = seen
    assert (post.method, post.url.path) == ("POST", "/v1/PhoneNumbers/CallFlows")
    assert (delete.method, delete.url.path) == ("DELETE", "/v1/PhoneNumbers/CallFlows")
    documented = example("provision_numbers_request")
    assert json.loads(post.content) == documented == json.loads(delete.content)
    assert post.headers["X-API-Key"] == "KEY"


def _configured_elsewhere(seen: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"callback": {"url": "https://theirs.example/ivr"}})
        if request.method == "PUT":
            return httpx.Response(200, json={})
        return httpx.Response(201, json={"call": {"id": "1@1"}})

    return handler


@pytest.mark.parametrize("take_over", [False, True])
async def test_a_number_configured_for_another_endpoint_is_taken_over_only_when_allowed(
    take_over: bool, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(_configured_elsewhere(seen)))
    flows = FlowCallback(
        url="https://dialer.example/v1/flows/voxology", headers={}, take_over=take_over
    )
    provider = VoxologyProvider(
        client, api_key="KEY", base_url="https://api.voxolo.gy/v1", flow_callback=flows
    )
    if not take_over:
        with pytest.raises(Misconfigured, match=r"theirs\.example"):
            await provider.place_call(_dial_request("+14155550100"))
        assert [r.method for r in seen] == ["GET"]
        return
    await provider.place_call(_dial_request("+14155550100"))
    assert [r.method for r in seen] == ["GET", "PUT", "POST"]
    assert "theirs.example" in caplog.text


# Every code of the reference's "Call Flow Loop Errors" table.
REFERENCE_FLOW_ERRORS = (
    1003,
    2001,
    4001,
    400900,
    400901,
    400902,
    400910,
    400911,
    400912,
    400913,
    400931,
    413900,
    413910,
    413901,
    413911,
)


def test_the_error_table_is_the_references() -> None:
    assert set(FLOW_ERRORS) == set(REFERENCE_FLOW_ERRORS)


@pytest.mark.parametrize("code", REFERENCE_FLOW_ERRORS)
@pytest.mark.parametrize("detection", ["live_person", "voicemail", None])
def test_a_call_that_ended_with_a_flow_error_failed_whoever_answered(
    code: int, detection: str | None
) -> None:
    data = {**example("callback_end_call"), "error_code": code, "error": "the platform's words"}
    data["detection"] = detection
    report = parse_call(data)
    assert report.outcome is Outcome.failed and report.error_code == code
    assert report.error is not None
    assert report.error.startswith(f"voxology error {code}: {FLOW_ERRORS[code].meaning}")
    assert report.error.endswith("(the platform's words)")
    assert report.out_of_credit is (code == 2001)


def test_a_call_still_ringing_with_an_error_code_is_still_open() -> None:
    data = {**example("callback_end_call"), "status": "live-ringing", "error_code": 4001}
    assert parse_call(data).outcome is None


def test_an_unknown_code_still_fails_the_call_and_says_so() -> None:
    report = parse_call({**example("callback_end_call"), "error_code": 999})
    assert report.outcome is Outcome.failed
    assert report.error == "voxology error 999: not in the reference"


@pytest.mark.parametrize("status", ["delivered", "sent"])
def test_a_message_with_an_error_code_is_not_delivered(status: str) -> None:
    data = {**example("message_outbound"), "status": status, "error_code": 4750}
    report = parse_message(data)
    assert report.outcome in (None, Outcome.failed) and report.settled_outcome is None
    assert report.error is not None and "4750" in report.error
