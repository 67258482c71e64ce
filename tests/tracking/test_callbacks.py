"""Provider callbacks: authenticated per attempt, idempotent, never moving a status backwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialer.dispatch.service import dial_notification
from dialer.security import callback_token
from tests.support import SQLITE_ONLY, Harness


async def _placed(harness: Harness, number: str = "+819012345670") -> dict[str, Any]:
    harness.sandbox.config.time_scale = 100.0  # the call rings on; callbacks come from the test
    body = await harness.notify(number)
    await dial_notification(harness.runtime, body["id"])
    return await harness.read(body["id"])


def _url(harness: Harness, attempt_id: int, token: str | None = None) -> str:
    secret = harness.settings.secret_key.get_secret_value()
    token = token if token is not None else callback_token(secret, "xoxzo", attempt_id)
    return f"/v1/callbacks/xoxzo/voice/{attempt_id}/{token}"


def _fields(callid: str, status: str = "ANSWERED") -> dict[str, str]:
    ended = status != "IN PROGRESS"
    return {
        "callid": callid,
        "status": status,
        "start_time": "2026-11-23 09:00:00",
        "end_time": "2026-11-23 09:00:30" if ended else "",
        "duration": "24" if ended else "0",
        "cost": "13" if ended else "0",
        "tags": "attempt-1",
        "caller": "+81312345678",
        "recipient": "+819012345670",
        "direction": "outbound",
        "call_type": "simple/playbacks",
        "url": "",
    }


async def _post(harness: Harness, url: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as provider:
        return await provider.post(url, **kwargs)


@pytest.mark.parametrize("token", ["0" * 40, "short", "x"])
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_wrong_token_is_403_and_changes_nothing(harness: Harness, token: str) -> None:
    before = await _placed(harness)
    attempt = before["attempts"][0]
    answer = await _post(
        harness, _url(harness, attempt["id"], token), data=_fields(attempt["provider_id"])
    )
    assert answer.status_code == 403
    assert await harness.read(before["id"]) == before


async def test_a_missing_token_is_403(harness: Harness) -> None:
    before = await _placed(harness)
    attempt = before["attempts"][0]
    for url in (
        f"/v1/callbacks/xoxzo/voice/{attempt['id']}",
        f"/v1/callbacks/xoxzo/voice/{attempt['id']}/",
    ):
        answer = await _post(harness, url, data=_fields(attempt["provider_id"]))
        assert answer.status_code == 403
    assert await harness.read(before["id"]) == before


async def test_a_token_for_another_attempt_is_403(harness: Harness) -> None:
    first = await _placed(harness, "+819012345670")
    second = await _placed(harness, "+819012345671")
    a1, a2 = first["attempts"][0], second["attempts"][0]
    secret = harness.settings.secret_key.get_secret_value()
    answer = await _post(
        harness,
        _url(harness, a2["id"], callback_token(secret, "xoxzo", a1["id"])),
        data=_fields(a2["provider_id"]),
    )
    assert answer.status_code == 403


async def test_final_then_duplicate_then_late_progress_never_go_backwards(harness: Harness) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    url = _url(harness, attempt["id"])
    assert (await _post(harness, url, data=_fields(attempt["provider_id"]))).status_code == 200
    final = await harness.read(placed["id"])
    assert final["status"] == "delivered"
    for late in ("ANSWERED", "IN PROGRESS", "NO ANSWER"):
        answer = await _post(harness, url, data=_fields(attempt["provider_id"], late))
        assert answer.status_code == 200  # or the provider keeps retrying
    assert await harness.read(placed["id"]) == final


async def test_json_callbacks_are_accepted_too(harness: Harness) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    fields: dict[str, Any] = {**_fields(attempt["provider_id"], "NO ANSWER"), "tags": ["x"]}
    answer = await _post(harness, _url(harness, attempt["id"]), json=fields)
    assert answer.status_code == 200
    read = await harness.read(placed["id"])
    assert read["status"] == "failed"
    assert read["attempts"][0]["provider_status"] == "NO ANSWER"


async def test_a_progress_callback_moves_dialing_on_but_not_to_final(harness: Harness) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    answer = await _post(
        harness, _url(harness, attempt["id"]), data=_fields(attempt["provider_id"], "IN PROGRESS")
    )
    assert answer.status_code == 200
    read = await harness.read(placed["id"])
    assert read["status"] == "in_progress"
    assert read["attempts"][0]["provider_status"] == "IN PROGRESS"


async def test_a_callback_naming_another_call_changes_nothing(harness: Harness) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    answer = await _post(harness, _url(harness, attempt["id"]), data=_fields("someone-else"))
    assert answer.status_code == 200
    assert await harness.read(placed["id"]) == placed


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"status": "ANSWERED"}},
        {"data": {"callid": "c"}},
        {"content": b"[1]", "headers": {"content-type": "application/json"}},
        {"content": b"{", "headers": {"content-type": "application/json"}},
        {"data": {"callid": "c", "status": "ANSWERED", "start_time": "yesterday"}},
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_bad_body_with_a_good_token_is_422(
    harness: Harness, kwargs: dict[str, Any]
) -> None:
    placed = await _placed(harness)
    answer = await _post(harness, _url(harness, placed["attempts"][0]["id"]), **kwargs)
    assert answer.status_code == 422
    assert await harness.read(placed["id"]) == placed


async def test_an_unknown_attempt_with_a_valid_token_is_404(harness: Harness) -> None:
    answer = await _post(harness, _url(harness, 987654), data=_fields("c"))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"duration": "inf"},
        {"duration": "1e30"},
        {"duration": "-5"},
        {"duration": "nan"},
        {"cost": "-1"},
        {"cost": "1e300"},
        {"start_time": "0001-01-01 00:00:00"},
        {"end_time": "9999-12-31 23:59:59x"},
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_an_out_of_range_field_is_422_and_changes_nothing(
    harness: Harness, bad: dict[str, str]
) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    url = _url(harness, attempt["id"])
    answer = await _post(harness, url, data={**_fields(attempt["provider_id"]), **bad})
    assert answer.status_code == 422 and next(iter(bad)) in answer.text
    assert await harness.read(placed["id"]) == placed


async def test_an_infinite_json_duration_is_422(harness: Harness) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    callid = attempt["provider_id"]
    body = f'{{"callid": "{callid}", "status": "ANSWERED", "duration": Infinity}}'
    answer = await _post(
        harness,
        _url(harness, attempt["id"]),
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert await harness.read(placed["id"]) == placed


async def test_an_undocumented_status_leaves_the_call_open_for_the_real_one(
    harness: Harness,
) -> None:
    placed = await _placed(harness)
    attempt = placed["attempts"][0]
    url = _url(harness, attempt["id"])
    ringing = await _post(harness, url, data=_fields(attempt["provider_id"], "RINGING"))
    assert ringing.status_code == 200
    read = await harness.read(placed["id"])
    assert read["status"] == "in_progress" and read["attempts"][0]["status"] == "in_progress"
    assert read["attempts"][0]["provider_status"] == "RINGING"
    answered = await _post(harness, url, data=_fields(attempt["provider_id"], "ANSWERED"))
    assert answered.status_code == 200
    read = await harness.read(placed["id"])
    assert (read["status"], read["outcome"]) == ("delivered", "answered")
