"""A notification with a call script: played on Voxology with its answers and transfer
recorded; on Xoxzo taken as one message or refused with the reason; a script that gives a key
twice refused, naming where."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from dialer.dispatch.service import dial_notification
from dialer.repeated_keys import repeated_key
from tests.scripts.clinic import CLINIC
from tests.support import Harness


# The command line and scripts go through the API: what they store is tested on both databases
# where it is written.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


VOXOLOGY = {"channel": "voice_flow", "provider": "voxology", "from": "+14155550100"}


def _english() -> dict[str, Any]:
    script = copy.deepcopy(CLINIC)
    script["lang"] = "en"
    script["steps"]["greet"]["say"] = "Your appointment is tomorrow."
    script["steps"]["desk"] = {"transfer": "+14155550200", "caller_id": "+14155550100"}
    del script["voicemail"]
    return script


async def test_a_scripted_call_records_its_answer_and_transfer(harness: Harness) -> None:
    body = await harness.notify("+14155550103", text=None, script=_english(), **VOXOLOGY)
    assert body["script"]["start"] == "greet" and body["text"] is None
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    [attempt] = final["attempts"]
    assert final["answers"] == attempt["answers"] == {"confirm": "front desk"}
    assert final["answer"] == "front desk"
    assert attempt["transferred_to"] == "+14155550200" and attempt["transfer_s"] is not None
    call = harness.sandbox.voxology_calls[attempt["provider_id"]]
    assert call.transfers == [("+14155550200", "completed")]
    assert [kind for kind, _ in call.callbacks] == [
        "init_call",
        "live_call",  # the answer to the question
        "live_call",  # the transfer's WEBHOOK
        "live_call",  # back from the transfer: hang up
        "end_call",
    ]


async def test_xoxzo_takes_a_script_of_says_as_one_tts_call(harness: Harness) -> None:
    script = {
        "start": "a",
        "steps": {"a": {"say": "Your order has shipped.", "next": "b"}, "b": {"say": "Thanks."}},
    }
    body = await harness.notify("+819012345671", text=None, lang="en", script=script)
    assert (body["channel"], body["text"], body["script"]) == (
        "tts",
        "Your order has shipped. Thanks.",
        None,
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"script": CLINIC}, "steps.confirm: ask is refused: Xoxzo plays one message"),
        (
            {"provider": "voxology", "from": "+14155550100", "channel": "sms", "script": CLINIC},
            "a script is for channel voice_flow or tts",
        ),
        ({**VOXOLOGY, "script": CLINIC, "text": "Hello"}, "a script holds what the call says"),
        (
            {**VOXOLOGY, "channel": "tts", "script": CLINIC},
            "script.voicemail needs channel voice_flow",
        ),
    ],
)
async def test_a_script_that_cannot_be_played_is_refused(
    harness: Harness, fields: dict[str, Any], named: str
) -> None:
    body = {"channel": "tts", "to": "+819012345671", "from": "+81312345678", **fields}
    refused = await harness.api.post("/v1/notifications", json=body)
    assert refused.status_code == 422 and named in refused.text, refused.text


async def test_a_key_given_twice_is_refused_naming_the_question(harness: Harness) -> None:
    text = json.dumps({**VOXOLOGY, "to": "+14155550113", "script": _english()})
    twice = text.replace('"2": {"label": "reschedule"', '"1": {"label": "reschedule"')
    assert twice != text
    refused = await harness.api.post(
        "/v1/notifications", content=twice, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["loc"] == ["body", "script", "steps", "confirm", "keys"]
    assert "'1' is given twice" in error["msg"]
    assert harness.sandbox.voxology_calls == {}


def test_repeated_keys_are_found_anywhere() -> None:
    assert repeated_key(b'{"a": 1, "a": 2}') == ("", "a")
    assert repeated_key(b'{"x": [{"b": 1}, {"c": 1, "c": 2}]}') == ("x.1", "c")
    assert repeated_key(b'{"a": {"b": 1}, "c": {"d": 1}}') is None
    assert repeated_key(b"not json") is None


async def test_a_person_calling_back_hears_the_scripts_first_words(harness: Harness) -> None:
    from tests.callflows.test_inbound import _ring_in

    body = await harness.notify("+14155550113", text=None, script=_english(), **VOXOLOGY)
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    await harness.wait_final(body["id"])
    back = await _ring_in(harness, "+14155550113", to="+14155550100")
    assert back["heard"] == ["Your appointment is tomorrow."]
