"""/v1/flows/voxology answers only Voxology: our secret header, and an attempt's own token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialer.attempts.tags import session_data_for
from dialer.dispatch.service import dial_notification
from dialer.security import FLOW_SECRET_HEADER, flow_secret
from tests.support import SQLITE_ONLY, Harness

VOICE_FLOW: dict[str, Any] = {
    "channel": "voice_flow",
    "provider": "voxology",
    "from": "+14155550100",
    "text": "Your appointment is tomorrow.",
    "lang": "en",
}


async def _ringing(harness: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """A notification whose call the sandbox holds ringing, and its attempt."""
    harness.sandbox.config.time_scale = 10_000.0
    body = await harness.notify("+14155550113", **VOICE_FLOW)
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    notification = await harness.read(body["id"])
    return notification, notification["attempts"][0]


def _callback(attempt: dict[str, Any], kind: str, session_data: Any, **extra: Any) -> Any:
    return {
        "type": kind,
        "call_id": attempt["provider_id"],
        "status": "live-in-progress",
        "detection": "live_person",
        "session_data": session_data,
        "key_presses": [],
        **extra,
    }


async def _post(harness: Harness, body: Any, secret: str | None) -> httpx.Response:
    headers = {FLOW_SECRET_HEADER: secret} if secret is not None else {}
    async with httpx.AsyncClient(base_url=harness.settings.public_url) as client:
        return await client.post("/v1/flows/voxology", json=body, headers=headers)


def _secret(harness: Harness) -> str:
    return flow_secret(harness.settings.secret_key.get_secret_value())


def _data(harness: Harness, attempt_id: int) -> dict[str, Any]:
    return session_data_for(harness.settings.secret_key.get_secret_value(), attempt_id)


async def test_init_call_is_answered_with_the_detect_flow(harness: Harness) -> None:
    _, attempt = await _ringing(harness)
    body = _callback(attempt, "init_call", _data(harness, attempt["id"]))
    answer = await _post(harness, body, _secret(harness))
    assert answer.status_code == 200, answer.text
    [detect] = answer.json()["actions"]
    assert detect["type"] == "DETECT"
    assert detect["events"]["on_live_person"][0]["params"]["text"] == VOICE_FLOW["text"]


@pytest.mark.parametrize(
    ("secret", "data", "status", "words"),
    [
        (None, "good", 403, "bad flow secret"),
        ("0" * 40, "good", 403, "bad flow secret"),
        ("good", {"attempt_id": "x"}, 403, "does not name one of our attempts"),
        ("good", None, 403, "does not name one of our attempts"),
        ("good", "forged", 403, "bad attempt token"),
        ("good", "unknown", 403, "no Voxology attempt"),
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_forged_callback_is_refused_and_changes_nothing(
    harness: Harness, secret: str | None, data: Any, status: int, words: str
) -> None:
    notification, attempt = await _ringing(harness)
    session_data = (
        {
            "good": _data(harness, attempt["id"]),
            "forged": {"attempt_id": attempt["id"], "token": "f" * 40},
            "unknown": _data(harness, attempt["id"] + 1000),
        }.get(data, data)
        if isinstance(data, str)
        else data
    )
    ended = _callback(
        attempt,
        "live_call",
        session_data,
        key_presses=[{"name": "confirm", "digits": "9", "history": ["9"]}],
    )
    answer = await _post(harness, ended, _secret(harness) if secret == "good" else secret)
    assert answer.status_code == status
    assert words in answer.text
    assert await harness.read(notification["id"]) == notification
    assert (await harness.api.get("/v1/do-not-contact")).json() == []


async def test_a_body_that_is_not_a_callback_is_422(harness: Harness) -> None:
    answer = await _post(harness, {"hello": "world"}, _secret(harness))
    assert answer.status_code == 422
    async with httpx.AsyncClient(base_url=harness.settings.public_url) as client:
        raw = await client.post(
            "/v1/flows/voxology",
            content=b"not json",
            headers={FLOW_SECRET_HEADER: _secret(harness)},
        )
    assert raw.status_code == 422


async def test_a_replayed_end_call_changes_nothing(harness: Harness) -> None:
    notification, attempt = await _ringing(harness)
    data = _data(harness, attempt["id"])
    ended = _callback(
        attempt,
        "end_call",
        data,
        status="completed",
        end_time="2026-11-23T10:00:00.000Z",
        connect_time_sec=12,
    )
    assert (await _post(harness, ended, _secret(harness))).status_code == 200
    final = await harness.read(notification["id"])
    assert (final["status"], final["outcome"]) == ("delivered", "answered")
    for late in (ended, _callback(attempt, "failed_call", data, status="busy", detection=None)):
        assert (await _post(harness, late, _secret(harness))).status_code == 200
        assert await harness.read(notification["id"]) == final


@pytest.mark.parametrize(
    "bad",
    [
        {"key_presses": "19"},
        {"key_presses": [1]},
        {"key_presses": {"name": "confirm"}},
        {"key_presses": [{"name": "confirm", "digits": "1"}] * 101},
        {"key_presses": [{"name": 7, "digits": "1"}]},
        {"key_presses": [{"name": "confirm", "digits": ["1"]}]},
        {"connected_time": "abc"},
        {"connected_time": 1e30},
        {"start_time": "garbage"},
        {"start_time": "0001-01-01T00:00:00Z"},
        {"error_code": "x"},
        {"charge": {"total": -3}},
        {"charge": "free"},
        {"connect_time_sec": "Infinity"},
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_malformed_flow_field_is_422_and_changes_nothing(
    harness: Harness, bad: dict[str, Any]
) -> None:
    notification, attempt = await _ringing(harness)
    body = _callback(attempt, "live_call", _data(harness, attempt["id"]), **bad)
    answer = await _post(harness, body, _secret(harness))
    assert answer.status_code == 422, answer.text
    assert await harness.read(notification["id"]) == notification


@SQLITE_ONLY  # a refusal before any row is written
async def test_a_mark_that_is_not_text_is_422_and_changes_nothing(harness: Harness) -> None:
    notification, attempt = await _ringing(harness)
    data = {**_data(harness, attempt["id"]), "at": {"step": "confirm"}}
    answer = await _post(harness, _callback(attempt, "live_call", data), _secret(harness))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "session_data", "at"]
    assert await harness.read(notification["id"]) == notification
