"""People who call one of our Voxology numbers back are answered, never refused: the message we
called them with, else the number's own action, else the service default. The sandbox plays
the inbound call through the number's call-flow configuration, as Voxology would."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialer.dispatch.service import dial_notification
from dialer.flows.validate import check_flow
from dialer.security import FLOW_SECRET_HEADER, flow_secret
from tests.support import Harness

OURS = "+14155550100"
FLOW: dict[str, Any] = {
    "channel": "voice_flow",
    "provider": "voxology",
    "from": OURS,
    "text": "Your appointment is tomorrow at ten.",
    "lang": "en",
}


async def _ring_in(harness: Harness, caller: str, to: str = OURS) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=harness.sandbox_url, timeout=30) as client:
        answer = await client.post(
            "/_sandbox/voxology/inbound-call", json={"to": to, "from": caller}
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["error_code"] is None, result
    assert {code for _, code in result["callbacks"]} == {200}
    return result


async def test_a_person_calling_back_hears_the_message_we_called_them_with(
    harness: Harness,
) -> None:
    called = await harness.notify("+14155550123", **FLOW)
    assert await dial_notification(harness.runtime, called["id"]) == "placed"
    await harness.wait_final(called["id"])
    heard = await _ring_in(harness, "+14155550123")
    assert heard["heard"] == [FLOW["text"]]


async def test_a_stranger_hears_the_default_and_then_the_numbers_own_action(
    harness: Harness,
) -> None:
    # Configured by a first call from it.
    first = await harness.notify("+14155550123", **FLOW)
    assert await dial_notification(harness.runtime, first["id"]) == "placed"
    await harness.wait_final(first["id"])
    stranger = await _ring_in(harness, "+14155550177")
    assert stranger["heard"] == ["Thank you for calling. Goodbye."]

    own = {"action": 'say en "Our office is open nine to five."'}
    set_ = await harness.api.put(f"/v1/numbers/{OURS}/action", json=own)
    assert set_.status_code == 200 and set_.json() == {"number": OURS, **own}
    assert (await _ring_in(harness, "+14155550177"))["heard"] == [
        "Our office is open nine to five."
    ]

    desk = {"action": "transfer +14155550111 --caller=+14155550100"}
    assert (await harness.api.put(f"/v1/numbers/{OURS}/action", json=desk)).status_code == 200
    assert (await _ring_in(harness, "+14155550177"))["transferred_to"] == "+14155550111"
    read = await harness.api.get(f"/v1/numbers/{OURS}/action")
    assert read.json()["action"] == desk["action"]

    cleared = await harness.api.put(f"/v1/numbers/{OURS}/action", json={"action": None})
    assert cleared.status_code == 200
    assert (await _ring_in(harness, "+14155550177"))["heard"] == ["Thank you for calling. Goodbye."]


async def test_a_withheld_number_is_answered_too(harness: Harness) -> None:
    first = await harness.notify("+14155550123", **FLOW)
    assert await dial_notification(harness.runtime, first["id"]) == "placed"
    await harness.wait_final(first["id"])
    assert (await _ring_in(harness, "anonymous"))["heard"] == ["Thank you for calling. Goodbye."]


async def test_an_action_outside_the_grammar_is_refused(harness: Harness) -> None:
    bad = await harness.api.put(f"/v1/numbers/{OURS}/action", json={"action": "dance"})
    assert bad.status_code == 422 and "not an action" in bad.text
    odd = await harness.api.put("/v1/numbers/0312345678/action", json={"action": None})
    assert odd.status_code == 422


@pytest.mark.parametrize(
    "fields",
    [
        {"caller_no": 14155550123},
        {"caller_no": {"no": "+14155550123"}},
        {"caller_no": ["+1"]},
        {"caller_no": "", "api_no": ""},
        {"caller_no": "+" + "9" * 5000},
        {"caller_no": "＋１４１５５５５０１２３"},
        {"caller_no": "+14155550123\r\nX-Injected: 1"},
        {"api_no": None},
        {"api_no": "'; DROP TABLE number_action; --"},
        {"type": "live_call"},
        {"type": "end_call", "status": "completed"},
        {"type": ["init_call"]},
    ],
)
async def test_any_inbound_callback_is_answered_never_a_500(
    harness: Harness, fields: dict[str, Any]
) -> None:
    body = {
        "type": "init_call",
        "call_id": "1@1",
        "direction": "inbound",
        "api_no": OURS,
        "caller_no": "+14155550123",
        "session_data": None,
        **fields,
    }
    secret = flow_secret(harness.settings.secret_key.get_secret_value())
    async with httpx.AsyncClient(base_url=harness.settings.public_url) as client:
        answer = await client.post(
            "/v1/flows/voxology", json=body, headers={FLOW_SECRET_HEADER: secret}
        )
    if not isinstance(body["type"], str):
        assert answer.status_code in (200, 422)
        return
    assert answer.status_code == 200, answer.text
    flow = answer.json()
    if body["type"] in ("init_call", "live_call"):
        check_flow(flow)
    else:
        assert flow == {}


async def test_an_inbound_call_without_our_secret_is_refused(harness: Harness) -> None:
    body = {"type": "init_call", "call_id": "1@1", "direction": "inbound", "api_no": OURS}
    async with httpx.AsyncClient(base_url=harness.settings.public_url) as client:
        answer = await client.post("/v1/flows/voxology", json=body)
    assert answer.status_code == 403
