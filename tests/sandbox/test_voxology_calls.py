"""The sandbox's Voxology call platform, driven by our adapter and answered with our own flows:
a stand-in for the call-flow endpoint plays a script (dialer.scripts) as our server does, without
the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from dialer.callflows.keys import read_presses
from dialer.flows.scripted import script_flow
from dialer.providers.base import CallRequest, Rejected
from dialer.providers.voxology import VoxologyProvider
from dialer.sandbox import SandboxConfig, create_sandbox_app
from dialer.sandbox.state import SandboxAccount
from dialer.scripts.defaults import DEFAULT_TEXTS, default_script
from dialer.scripts.schemas import Script
from dialer.scripts.walk import walk
from dialer.serve import free_ports, running_server
from dialer.vocabulary import Outcome
from tests.support import wait_for

CALLER_ID = "+14155550999"
TEXTS = DEFAULT_TEXTS["en"]
HELLO = default_script(text="Hi Aiko", recording_url=None, lang="en")


@dataclass
class Platform:
    account: SandboxAccount
    provider: VoxologyProvider
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    answer_status: int = 200
    script: Script = field(default_factory=lambda: HELLO)

    def answers(self) -> dict[str, str]:
        """What the last request's keys answered."""
        last = self.requests[-1]
        done = walk(self.script, read_presses(last["key_presses"]), last["session_data"].get("at"))
        return done.answers


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    sandbox = create_sandbox_app(SandboxConfig(voxology_api_key="vk", time_scale=0.005))
    endpoint = FastAPI()
    holder: dict[str, Platform] = {}

    @endpoint.post("/flow")
    async def flow(request: Request) -> Response:
        body = await request.json()
        state = holder["platform"]
        state.requests.append({**body, "secret": request.headers.get("X-Dialer-Secret")})
        if state.answer_status != 200:
            return Response(status_code=state.answer_status)
        if body.get("is_webhook") == "true" or body["type"] not in ("init_call", "live_call"):
            return Response(status_code=200)
        session = {k: v for k, v in body["session_data"].items() if k != "at"}
        at = None if body["type"] == "init_call" else body["session_data"].get("at")
        done = walk(state.script, read_presses(body["key_presses"]), at)
        first = body["type"] == "init_call"
        flow = script_flow(state.script, done.resume, done.visits, session, lang="en", detect=first)
        return JSONResponse(flow.flow)

    sandbox_port, endpoint_port = free_ports(2)
    async with (
        running_server(sandbox, "127.0.0.1", sandbox_port),
        running_server(endpoint, "127.0.0.1", endpoint_port),
        # Patient: a loaded machine once took over 5 s to accept the first connection.
        httpx.AsyncClient(timeout=30) as client,
    ):
        provider = VoxologyProvider(
            client, api_key="vk", base_url=f"http://127.0.0.1:{sandbox_port}/v1"
        )
        await provider.configure_number(
            CALLER_ID, f"http://127.0.0.1:{endpoint_port}/flow", {"X-Dialer-Secret": "s3cret"}
        )
        base_url = f"http://127.0.0.1:{sandbox_port}/v1"
        holder["platform"] = Platform(sandbox.state.account, provider, base_url)
        yield holder["platform"]


async def _call(platform: Platform, number: str) -> tuple[str, list[dict[str, Any]]]:
    placed = await platform.provider.place_call(
        CallRequest(
            caller=CALLER_ID,
            recipient=number,
            callback_url="",
            tag="attempt-3",
            session_data={"attempt": 3},
        )
    )

    async def ended() -> bool:
        return any(r["type"] in {"end_call", "failed_call"} for r in platform.requests)

    await wait_for(ended, 15, "the call to end")
    return placed.provider_id, platform.requests


@pytest.mark.parametrize(
    ("number", "types", "heard_last", "answers", "outcome"),
    [
        # 0 is a key the question does not take, and 8 presses none: goodbye either way.
        (
            "+14155550100",
            ["init_call", "live_call", "end_call"],
            TEXTS["goodbye"],
            {},
            Outcome.answered,
        ),
        (
            "+14155550180",
            ["init_call", "live_call", "end_call"],
            TEXTS["goodbye"],
            {},
            Outcome.answered,
        ),
        (
            "+14155550110",
            ["init_call", "live_call", "end_call"],
            TEXTS["thanks"],
            {"confirm": "confirmed"},
            Outcome.answered,
        ),
        (
            "+14155550190",
            ["init_call", "live_call", "end_call"],
            TEXTS["opted_out"],
            {"confirm": "opted_out"},
            Outcome.answered,
        ),
        ("+14155550105", ["init_call", "end_call"], "Hi Aiko", {}, Outcome.voicemail),
    ],
)
async def test_connected_calls_run_the_flow_loop(
    platform: Platform,
    number: str,
    types: list[str],
    heard_last: str,
    answers: dict[str, str],
    outcome: Outcome,
) -> None:
    call_id, requests = await _call(platform, number)
    assert [r["type"] for r in requests] == types
    assert {r["call_id"] for r in requests} == {call_id}
    kept = [{k: v for k, v in r["session_data"].items() if k != "at"} for r in requests]
    assert kept == [{"attempt": 3, "tag": "attempt-3"}] * len(requests)
    assert {r["secret"] for r in requests} == {"s3cret"}
    call = platform.account.voxology_calls[call_id]
    assert call.heard[-1] == heard_last
    assert platform.answers() == answers
    report = await platform.provider.call_status(call_id)  # ended: read from the call log
    assert report.outcome is outcome and report.raw_status == "completed"
    assert report.detection == ("voicemail" if outcome is Outcome.voicemail else "live_person")


@pytest.mark.parametrize(
    ("number", "status", "outcome"),
    [
        ("+14155550106", "no-answer", Outcome.no_answer),
        ("+14155550107", "busy", Outcome.busy),
        ("+14155550108", "failed", Outcome.failed),
    ],
)
async def test_calls_that_never_connect_end_with_failed_call(
    platform: Platform, number: str, status: str, outcome: Outcome
) -> None:
    call_id, requests = await _call(platform, number)
    assert [(r["type"], r["status"]) for r in requests] == [("failed_call", status)]
    assert (await platform.provider.call_status(call_id)).outcome is outcome


async def test_a_call_is_live_while_it_rings(platform: Platform) -> None:
    platform.account.config.time_scale = 1.0
    placed = await platform.provider.place_call(
        CallRequest(caller=CALLER_ID, recipient="+14155550100", callback_url="", tag="t")
    )
    report = await platform.provider.call_status(placed.provider_id)
    assert report.raw_status in {"live-queued", "live-ringing"} and report.outcome is None


async def test_a_caller_id_without_configuration_is_refused(platform: Platform) -> None:
    with pytest.raises(Rejected, match="caller ID not verified"):
        await platform.provider.place_call(
            CallRequest(caller="+14155550998", recipient="+14155550100", callback_url="", tag="t")
        )


async def test_a_failing_flow_endpoint_ends_the_call_with_the_documented_error_code(
    platform: Platform,
) -> None:
    platform.answer_status = 500
    call_id, requests = await _call(platform, "+14155550100")
    # The failover endpoint (configured the same) is asked before the call gives up.
    assert [r["type"] for r in requests] == ["init_call", "init_call", "end_call", "end_call"]
    assert requests[-1]["error_code"] == 400911
    assert platform.account.voxology_calls[call_id].heard == []
    report = await platform.provider.call_status(call_id)
    assert report.outcome is Outcome.failed and report.error_code == 400911
    assert report.error is not None and report.error.startswith("voxology error 400911: ")


async def test_the_failover_endpoint_answers_when_the_first_fails(platform: Platform) -> None:
    config = platform.account.voxology_configs[CALLER_ID]
    good = config["callback"]["url"]
    config["callback"] = {**config["callback"], "url": good.replace("/flow", "/missing")}
    config["callback_failover"] = {**config["callback_failover"], "url": good}
    call_id, _ = await _call(platform, "+14155550110")
    call = platform.account.voxology_calls[call_id]
    assert call.error_code is None and call.heard[-1] == TEXTS["thanks"]
    assert [kind for kind, code in call.callbacks if code == 404][:1] == ["init_call"]


async def test_a_call_connected_with_no_money_left_ends_with_2001(platform: Platform) -> None:
    platform.account.config.voxology_balance = 0.01
    platform.account.config.time_scale = 0.5
    placed = await platform.provider.place_call(
        CallRequest(caller=CALLER_ID, recipient="+14155550100", callback_url="", tag="t")
    )
    platform.account.config.voxology_balance = 0.0  # spent by another call while this rang
    call = platform.account.voxology_calls[placed.provider_id]

    async def ended() -> bool:
        return call.end_time is not None

    await wait_for(ended, 15, "the call to end")
    report = await platform.provider.call_status(placed.provider_id)
    assert report.error_code == 2001 and report.out_of_credit and report.outcome is Outcome.failed


@pytest.mark.parametrize(("name", "value"), [("timeout", 5), ("max_call_time", 10**6)])
async def test_ring_and_call_time_outside_the_reference_are_refused(
    platform: Platform, name: str, value: int
) -> None:
    with pytest.raises(Rejected, match=name):
        await platform.provider.place_call(
            CallRequest(
                caller=CALLER_ID,
                recipient="+14155550100",
                callback_url="",
                tag="t",
                **{"ring_timeout_s" if name == "timeout" else "max_call_time_s": value},
            )
        )


def _clinic(desk: str) -> Script:
    from tests.scripts.clinic import CLINIC

    steps = {**CLINIC["steps"], "desk": {"transfer": desk, "next": "bye"}}
    return Script.model_validate({**CLINIC, "lang": "en", "steps": steps})


@pytest.mark.parametrize(
    ("number", "desk", "answers", "transfers"),
    [
        ("+14155550113", "+14155550200", {"confirm": "confirmed"}, []),
        ("+14155550123", "+14155550200", {"confirm": "reschedule"}, []),
        # The desk answers (0), does not (6), is busy (7).
        (
            "+14155550102",
            "+14155550200",
            {"confirm": "front desk"},
            [("+14155550200", "completed")],
        ),
        (
            "+14155550102",
            "+14155550206",
            {"confirm": "front desk"},
            [("+14155550206", "no-answer")],
        ),
        ("+14155550103", "+14155550207", {"confirm": "front desk"}, [("+14155550207", "busy")]),
        # 8 presses nothing, then 5, a key it does not take: asked a third time, 2.
        ("+14155552583", "+14155550200", {"confirm": "reschedule"}, []),
    ],
)
async def test_a_script_asks_and_transfers(
    platform: Platform,
    number: str,
    desk: str,
    answers: dict[str, str],
    transfers: list[tuple[str, str]],
) -> None:
    platform.script = _clinic(desk)
    call_id, requests = await _call(platform, number)
    call = platform.account.voxology_calls[call_id]
    assert call.error_code is None
    assert platform.answers() == answers and call.transfers == transfers
    if transfers:
        # The transfer's WEBHOOK went to the callback URL, marked as one.
        hooks = [r for r in requests if r.get("is_webhook") == "true"]
        assert [h["event_name"] for h in hooks] == ["transfer"]
        assert hooks[0]["webhook_data"] == {"at": "desk"}


async def test_japanese_needs_the_watson_integration(platform: Platform) -> None:
    platform.script = default_script(text="明日のご予約です。", recording_url=None, lang="ja")
    platform.account.config.voxology_watson = False
    call_id, _ = await _call(platform, "+81312345610")
    call = platform.account.voxology_calls[call_id]
    assert call.error_code == 400913 and "Watson" in (call.error or "")
    async with httpx.AsyncClient() as client:
        answer = await client.put(
            f"{platform.base_url}/Integrations/TTS/Watson",
            json={"text_to_speech": {"api_key": "ibm-key"}},
            headers={"X-API-Key": "vk"},
        )
    assert answer.status_code == 200 and platform.account.config.voxology_watson
    platform.requests.clear()
    call_id, _ = await _call(platform, "+81312345610")
    call = platform.account.voxology_calls[call_id]
    assert call.error_code is None and call.heard[0] == "明日のご予約です。"
