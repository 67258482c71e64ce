"""SMS through the whole path: REST, dispatch, the sandbox, its delivery report or a status poll."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.db import session_scope
from dialer.dispatch.service import dial_notification
from dialer.optouts.service import block_number
from dialer.serve import running_worker
from tests.support import Harness

SMS: dict[str, Any] = {
    "channel": "sms",
    "from": "DIALER",
    "text": "Your code is 1234",
    "lang": None,
}


@pytest.mark.parametrize(
    ("number", "status", "outcome", "raw"),
    [
        ("+819012345670", "delivered", "delivered", "DELIVERED"),
        ("+819012345679", "failed", "failed", "FAILED"),
    ],
)
async def test_an_sms_is_finished_by_its_delivery_report(
    harness: Harness, number: str, status: str, outcome: str, raw: str
) -> None:
    body = await harness.notify(number, **SMS)
    assert body["from"] == "DIALER"
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == (status, outcome)
    [attempt] = final["attempts"]
    assert attempt["provider_status"] == raw
    assert attempt["parts"] == 1
    message = harness.sandbox.messages[attempt["provider_id"]]
    assert message.tags == [f"attempt-{attempt['id']}"]
    assert message.sender == "DIALER" and message.message == "Your code is 1234"
    assert message.callback_deliveries == [200]


async def test_with_delivery_reports_lost_polling_finishes_the_sms(harness: Harness) -> None:
    harness.sandbox.config.callback_drop_rate = 1.0
    body = await harness.notify("+819012345670", **{**SMS, "text": "あ" * 100})
    async with running_worker(harness.settings, harness.redis_url):
        final = await harness.wait_final(body["id"])
    assert final["status"] == "delivered"
    assert final["attempts"][0]["parts"] == 2


async def test_a_numeric_sender_is_normalised_like_a_number(harness: Harness) -> None:
    body = await harness.notify("+819012345670", **{**SMS, "from": "03-1234-5678"})
    assert body["from"] == "+81312345678"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"text": None}, "text is required for channel sms"),
        ({"lang": "en"}, "channel sms takes text only"),
        ({"text": "x" * 661}, "at most 660 characters"),
        ({"from": "My Shop Name"}, "a sender name is 1 to 10 letters and digits"),
        ({"provider": "voxology"}, "invalid phone number: not a phone number"),
    ],
)
async def test_bad_sms_requests_are_422(
    harness: Harness, change: dict[str, Any], words: str
) -> None:
    body = {"to": "+819012345670", **SMS, **change}
    answer = await harness.api.post(
        "/v1/notifications", json={k: v for k, v in body.items() if v is not None}
    )
    assert answer.status_code == 422
    assert words in answer.text


async def test_a_number_on_the_do_not_contact_list_is_suppressed_not_sent(
    harness: Harness,
) -> None:
    async with session_scope(harness.runtime.sessions) as session:
        await block_number(session, "+819012345670", source="test")
    body = await harness.notify("+819012345670", **SMS)
    assert body["status"] == "suppressed"
    assert body["last_error"] == "the number is on the do-not-contact list"
    assert await harness.runtime.redis.zcard("arq:queue") == 0
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    assert harness.sandbox.messages == {}


async def test_a_number_blocked_after_queueing_is_suppressed_at_dispatch(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    async with session_scope(harness.runtime.sessions) as session:
        await block_number(session, "+819012345670", source="test")
    assert await dial_notification(harness.runtime, body["id"]) == "not due"
    read = await harness.read(body["id"])
    assert read["status"] == "suppressed" and read["attempts"] == []
    assert harness.sandbox.calls == {}
