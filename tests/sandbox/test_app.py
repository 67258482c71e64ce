"""The sandbox speaks Xoxzo's documented protocol: checked with Xoxzo's own client and raw HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from xoxzo.cloudpy import XoxzoClient

from dialer.sandbox import OUTCOME_BY_LAST_DIGIT, SandboxConfig, create_sandbox_app
from dialer.sandbox.state import SandboxAccount
from dialer.serve import free_port, running_server
from tests.support import wait_for

AUTH = ("AC-test", "token-test")


@dataclass
class Sandbox:
    url: str
    account: SandboxAccount
    client: httpx.AsyncClient


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    app = create_sandbox_app(SandboxConfig(sid=AUTH[0], auth_token=AUTH[1], time_scale=0.01))
    port = free_port()
    async with (
        running_server(app, "127.0.0.1", port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", auth=AUTH) as client,
    ):
        yield Sandbox(f"http://127.0.0.1:{port}", app.state.account, client)


def _tts(recipient: str = "+819012345670", **extra: str) -> dict[str, str]:
    return {
        "caller": "+81312345678",
        "recipient": recipient,
        "tts_message": "Hello",
        "tts_lang": "en",
        **extra,
    }


async def test_the_official_xoxzo_client_places_a_tts_call_and_reads_its_status(
    sandbox: Sandbox,
) -> None:
    client = XoxzoClient(sid=AUTH[0], auth_token=AUTH[1], api_host=sandbox.url)
    placed = await asyncio.to_thread(
        client.call_tts_playback, "+81312345678", "+819012345670", "Hello from cloudpy", "en"
    )
    assert placed.errors is None, placed.message
    callid = placed.messages[0]["callid"]

    async def answered() -> dict[str, Any] | None:
        # The client asks for /voice/calls/<id> without the slash and follows the redirect.
        status = await asyncio.to_thread(client.get_simple_playback_status, callid)
        assert status.errors is None, status.message
        return status.message if status.message["status"] == "ANSWERED" else None

    final = await wait_for(answered, 10, "the call to be answered")
    assert final["callid"] == callid
    assert final["recipient"] == "+819012345670"
    assert final["call_type"] == "simple/playbacks"
    assert final["duration"] > 0 and final["cost"] > 0


async def test_the_official_client_sees_a_401_for_wrong_credentials(sandbox: Sandbox) -> None:
    client = XoxzoClient(sid=AUTH[0], auth_token="wrong", api_host=sandbox.url)
    answer = await asyncio.to_thread(
        client.call_tts_playback, "+81312345678", "+819012345670", "Hello", "en"
    )
    assert answer.errors == 401
    assert answer.message == {"detail": "Invalid sid/token"}


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (
            {"recipient": "+819012345670", "recording_url": "http://example.com/a.mp3"},
            {"caller": ["This field is required."]},
        ),
        (_tts(recipient="09012345670"), {"recipient": ["Enter a valid E.164 phone number."]}),
        (
            {
                "caller": "+81312345678",
                "recipient": "+819012345670",
                "recording_url": "https://example.com/a.mp3",
            },
            {"recording_url": ["https is not supported."]},
        ),
        (
            {
                "caller": "+81312345678",
                "recipient": "+819012345670",
                "recording_url": "http://example.com/a b?.mp3",
            },
            {"recording_url": ["Enter a valid URL."]},
        ),
        (
            {"caller": "+81312345678", "recipient": "+819012345670"},
            {"recording_url": ["This field is required."]},
        ),
    ],
)
async def test_bad_requests_get_field_errors(
    sandbox: Sandbox, form: dict[str, str], errors: dict[str, list[str]]
) -> None:
    answer = await sandbox.client.post("/voice/simple/playbacks/", data=form)
    assert answer.status_code == 400
    assert answer.json() == errors
    assert sandbox.account.calls == {}


async def test_unsupported_tts_language(sandbox: Sandbox) -> None:
    answer = await sandbox.client.post("/voice/simple/playbacks/", data=_tts(tts_lang="fr"))
    assert answer.status_code == 400
    assert list(answer.json()) == ["tts_lang"]


async def test_below_the_minimum_balance_a_call_is_refused_with_403(sandbox: Sandbox) -> None:
    sandbox.account.config.balance = 49
    answer = await sandbox.client.post("/voice/simple/playbacks/", data=_tts())
    assert answer.status_code == 403
    assert answer.json() == {"non_field_errors": ["Not enough credits, required: 50"]}
    credits = await sandbox.client.get("/you/credits/")
    assert credits.json() == {"credits": 49}


async def test_over_the_rate_a_request_gets_429_with_the_wait(sandbox: Sandbox) -> None:
    sandbox.account.config.rate = 2
    codes = [(await sandbox.client.get("/you/credits/")).status_code for _ in range(2)]
    throttled = await sandbox.client.get("/you/credits/")
    assert codes == [200, 200]
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json() == {"detail": "Request was throttled. Expected available in 1 second."}


async def test_unknown_call_is_an_html_404(sandbox: Sandbox) -> None:
    answer = await sandbox.client.get("/voice/calls/nope/")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")


async def test_missing_slash_redirects_a_get_and_refuses_a_post(sandbox: Sandbox) -> None:
    redirect = await sandbox.client.get("/you/credits")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/you/credits/"
    post = await sandbox.client.post("/voice/simple/playbacks", data=_tts())
    assert post.status_code == 404


@pytest.mark.parametrize("digit", sorted(OUTCOME_BY_LAST_DIGIT))
async def test_outcome_follows_the_last_digit_and_spends_credits(
    sandbox: Sandbox, digit: str
) -> None:
    before = sandbox.account.config.balance
    placed = await sandbox.client.post(
        "/voice/simple/playbacks/", data=_tts(recipient=f"+81901234567{digit}")
    )
    assert placed.status_code == 201
    callid = placed.json()[0]["callid"]

    async def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = (await sandbox.client.get(f"/voice/calls/{callid}/")).json()
        return body if body["status"] != "IN PROGRESS" else None

    final = await wait_for(ended, 10, "the call to end")
    assert final["status"] == OUTCOME_BY_LAST_DIGIT[digit].status
    assert sandbox.account.config.balance == before - final["cost"]
    assert (final["cost"] > 0) == (final["status"] == "ANSWERED")


async def test_end_of_call_posts_to_the_callback_until_it_gets_200(sandbox: Sandbox) -> None:
    received: list[dict[str, str]] = []
    receiver = FastAPI()

    @receiver.post("/cb")
    async def callback(request: Request) -> Response:
        received.append({k: str(v) for k, v in (await request.form()).items()})
        return Response(status_code=500 if len(received) < 3 else 200)

    port = free_port()
    async with running_server(receiver, "127.0.0.1", port):
        placed = await sandbox.client.post(
            "/voice/simple/playbacks/",
            data=_tts(callbackurl=f"http://127.0.0.1:{port}/cb", tags="attempt-9, other"),
        )
        callid = placed.json()[0]["callid"]

        async def three() -> bool:
            return len(received) >= 3

        await wait_for(three, 10, "three callback deliveries")
        await asyncio.sleep(0.2)
    assert len(received) == 3
    assert received[0]["callid"] == callid
    assert received[0]["status"] == "ANSWERED"
    assert received[0]["tags"] == "attempt-9,other"
    assert sandbox.account.calls[callid].callback_deliveries == [500, 500, 200]


async def test_knobs_change_at_run_time_and_unknown_ones_are_refused(sandbox: Sandbox) -> None:
    ok = await sandbox.client.post("/_sandbox/knobs", json={"rate": 5, "post_5xx_rate": 1})
    assert ok.status_code == 200
    assert sandbox.account.config.rate == 5
    refused = await sandbox.client.post("/_sandbox/knobs", json={"sid": "x"})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b"[1]",
        b"not json",
        b'{"rate": "fast"}',
        b'{"rate": -1}',
        b'{"rate": null}',
        b'{"post_hang_s": 1e300}',
        b'{"throttle_rate": 2}',
        b'{"rate": NaN}',
    ],
)
async def test_a_knob_that_is_not_a_number_in_its_range_is_refused(
    sandbox: Sandbox, body: bytes
) -> None:
    before = sandbox.account.config.public()
    refused = await sandbox.client.post("/_sandbox/knobs", content=body)
    assert refused.status_code == 422, refused.text
    assert sandbox.account.config.public() == before


async def test_a_5xx_fault_still_places_the_call(sandbox: Sandbox) -> None:
    sandbox.account.config.post_5xx_rate = 1.0
    answer = await sandbox.client.post("/voice/simple/playbacks/", data=_tts())
    assert answer.status_code == 502
    assert len(sandbox.account.calls) == 1


async def test_chaos_faults_429_hang_and_callbacks_lost_and_repeated(sandbox: Sandbox) -> None:
    config = sandbox.account.config
    config.throttle_rate = 1.0
    throttled = await sandbox.client.post("/voice/simple/playbacks/", data=_tts())
    assert throttled.status_code == 429 and sandbox.account.calls == {}
    assert throttled.headers["Retry-After"] == "1"
    config.throttle_rate, config.post_timeout_rate, config.post_hang_s = 0.0, 1.0, 0.3
    hung = asyncio.create_task(sandbox.client.post("/voice/simple/playbacks/", data=_tts()))
    await asyncio.sleep(0.1)
    # The call is placed before the answer, which comes only after the hang.
    assert len(sandbox.account.calls) == 1 and not hung.done()
    assert (await hung).status_code == 201
    config.post_timeout_rate = 0.0
    received: list[str] = []
    receiver = FastAPI()

    @receiver.post("/cb")
    async def callback(request: Request) -> Response:
        received.append(str((await request.form())["callid"]))
        return Response(status_code=200)

    port = free_port()
    async with running_server(receiver, "127.0.0.1", port):
        config.callback_duplicate_rate, config.callback_loss_rate = 1.0, 0.5
        placed = await sandbox.client.post(
            "/voice/simple/playbacks/", data=_tts(callbackurl=f"http://127.0.0.1:{port}/cb")
        )
        callid = placed.json()[0]["callid"]

        async def twice() -> bool:
            return len(received) >= 2

        await wait_for(twice, 10, "the callback, twice")
        await asyncio.sleep(0.2)
    assert received == [callid, callid]
    deliveries = sandbox.account.calls[callid].callback_deliveries
    assert deliveries.count(200) == 2 and set(deliveries) <= {0, 200}


def _sms(recipient: str = "+819012345670", **extra: str) -> dict[str, str]:
    return {"message": "Your code is 1234", "recipient": recipient, "sender": "DIALER", **extra}


@pytest.mark.parametrize(("digit", "final"), [("0", "DELIVERED"), ("9", "FAILED")])
async def test_sms_goes_queued_delivering_final_and_reports_to_its_callback(
    sandbox: Sandbox, digit: str, final: str
) -> None:
    received: list[dict[str, str]] = []
    receiver = FastAPI()

    @receiver.post("/dlr")
    async def dlr(request: Request) -> Response:
        received.append({k: str(v) for k, v in (await request.form()).items()})
        return Response(status_code=200)

    port = free_port()
    async with running_server(receiver, "127.0.0.1", port):
        sandbox.account.config.time_scale = 0.2
        placed = await sandbox.client.post(
            "/sms/messages/",
            data=_sms(
                recipient=f"+81901234567{digit}",
                callbackurl=f"http://127.0.0.1:{port}/dlr",
                tags="attempt-3",
            ),
        )
        assert placed.status_code == 201
        msgid = placed.json()[0]["msgid"]
        first = (await sandbox.client.get(f"/sms/messages/{msgid}/")).json()

        async def reported() -> bool:
            return bool(received)

        await wait_for(reported, 10, "the delivery report")
    assert first["status"] == "QUEUED"
    assert received[0]["msgid"] == msgid
    assert received[0]["status"] == final
    assert received[0]["tags"] == "attempt-3"
    status = (await sandbox.client.get(f"/sms/messages/{msgid}/")).json()
    assert set(status) == {
        "msgid",
        "recipient",
        "sender",
        "status",
        "cost",
        "sent_time",
        "url",
        "tags",
    }
    assert status["status"] == final and status["cost"] == 1


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        (_sms(message="x" * 661), {"message": ["Message too long"]}),
        (_sms(message=""), {"message": ["This field is required."]}),
        (
            _sms(sender="TOOLONGNAME1"),
            {"sender": ["Enter a valid sender: up to 10 letters and digits, or a number."]},
        ),
        (_sms(recipient="0901234567"), {"recipient": ["Enter a valid E.164 phone number."]}),
    ],
)
async def test_bad_sms_requests_get_field_errors(
    sandbox: Sandbox, form: dict[str, str], errors: dict[str, list[str]]
) -> None:
    answer = await sandbox.client.post("/sms/messages/", data=form)
    assert answer.status_code == 400
    assert answer.json() == errors
    assert sandbox.account.messages == {}


async def test_a_long_message_is_billed_per_part(sandbox: Sandbox) -> None:
    placed = await sandbox.client.post("/sms/messages/", data=_sms(message="あ" * 200))
    msgid = placed.json()[0]["msgid"]
    assert sandbox.account.messages[msgid].parts == 3
    assert (await sandbox.client.get(f"/sms/messages/{msgid}/")).json()["cost"] == 3


async def test_the_official_client_sends_an_sms_and_reads_its_status(sandbox: Sandbox) -> None:
    client = XoxzoClient(sid=AUTH[0], auth_token=AUTH[1], api_host=sandbox.url)
    sent = await asyncio.to_thread(client.send_sms, "Hello from cloudpy", "+819012345670", "DIALER")
    assert sent.errors is None, sent.message
    msgid = sent.messages[0]["msgid"]
    status = await asyncio.to_thread(client.get_sms_delivery_status, msgid)
    assert status.errors is None, status.message
    assert status.message["msgid"] == msgid
    assert status.message["status"] in {"QUEUED", "DELIVERING", "DELIVERED"}


async def test_network_jitter_delays_a_request_before_it_is_counted_and_its_answer_after(
    sandbox: Sandbox,
) -> None:
    """The knob `network_jitter_s`: a request reaches the account up to that late, at random,
    and is counted against the rate when it arrives; its answer comes back as late again."""
    await sandbox.client.post("/_sandbox/knobs", json={"network_jitter_s": 0.2, "rate": 1000})
    took: list[float] = []
    arrived: list[float] = []
    for i in range(12):
        sent = time.monotonic()
        sent_wall = time.time()
        answer = await sandbox.client.post(
            "/voice/simple/playbacks/", data=_tts(f"+81901234567{i % 10}")
        )
        took.append(time.monotonic() - sent)
        assert answer.status_code == 201
        at = sandbox.account.traffic[-1][0]
        arrived.append(at - sent_wall)
    assert all(t <= 0.5 for t in took)  # two legs of at most 0.2 s, and the work
    assert sum(took) / len(took) > 0.1  # uniform on [0, 0.2] each way: about 0.2 on average
    assert all(a >= 0 for a in arrived) and max(arrived) > 0.05  # counted on arrival
    await sandbox.client.post("/_sandbox/knobs", json={"network_jitter_s": 0})
    sent = time.monotonic()
    await sandbox.client.post("/voice/simple/playbacks/", data=_tts())
    assert time.monotonic() - sent < 0.2
