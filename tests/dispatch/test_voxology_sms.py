"""Voxology SMS through the whole path; an opt-out reported by Voxology reaches our list."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.dispatch.service import dial_notification
from dialer.serve import running_worker
from tests.support import Harness

VOX: dict[str, Any] = {
    "channel": "sms",
    "provider": "voxology",
    "from": "+14155550100",
    "text": "Your table is ready.",
    "lang": None,
}


@pytest.mark.parametrize(
    ("to", "status", "outcome", "raw"),
    [
        ("+14155550123", "delivered", "delivered", "delivered"),
        ("+14155550129", "failed", "failed", "undelivered"),
    ],
)
async def test_a_voxology_sms_is_finished_by_its_status_webhook(
    harness: Harness, to: str, status: str, outcome: str, raw: str
) -> None:
    body = await harness.notify(to, **VOX)
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == (status, outcome)
    [attempt] = final["attempts"]
    assert attempt["provider"] == "voxology" and attempt["provider_status"] == raw
    message = harness.sandbox.voxology_messages[attempt["provider_id"]]
    assert message.external_id == f"attempt-{attempt['id']}"
    assert all(code == 200 for _, code in message.webhook_deliveries)


async def test_a_voxology_opt_out_suppresses_every_later_notification(harness: Harness) -> None:
    body = await harness.notify("+14155550128", **VOX)
    await dial_notification(harness.runtime, body["id"])
    final = await harness.wait_final(body["id"])
    assert (final["status"], final["outcome"]) == ("failed", "opted_out")
    later = await harness.notify("+14155550128", **VOX)
    assert later["status"] == "suppressed"
    by_xoxzo = await harness.notify(
        "+14155550128",
        channel="sms",
        lang=None,
        text="Same person, another provider.",
        **{"from": "ACME"},
    )
    assert by_xoxzo["status"] == "suppressed"


async def test_with_webhooks_lost_polling_finishes_a_voxology_sms(harness: Harness) -> None:
    harness.sandbox.config.callback_drop_rate = 1.0
    body = await harness.notify("+14155550123", **VOX)
    async with running_worker(harness.settings, harness.redis_url):
        final = await harness.wait_final(body["id"])
    assert final["outcome"] == "delivered"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"from": "ACME"}, "invalid phone number"),
        ({"text": None}, "text is required for channel sms"),
    ],
)
async def test_what_voxology_cannot_do_is_refused(
    harness: Harness, change: dict[str, Any], words: str
) -> None:
    body = {"to": "+14155550123", **VOX, **change}
    answer = await harness.api.post(
        "/v1/notifications", json={k: v for k, v in body.items() if v is not None}
    )
    assert answer.status_code == 422
    assert words in answer.text


async def test_a_message_still_sent_at_the_deadline_counts_as_delivered(harness: Harness) -> None:
    from datetime import timedelta

    from dialer.db import session_scope
    from dialer.models import Attempt
    from dialer.tracking.checks import check_attempt

    harness.sandbox.config.time_scale = 10_000.0  # nothing moves on by itself
    body = await harness.notify("+14155550123", **VOX)
    await dial_notification(harness.runtime, body["id"])
    attempt_id = (await harness.read(body["id"]))["attempts"][0]["id"]
    [message] = harness.sandbox.voxology_messages.values()
    message.status = "sent"
    assert await check_attempt(harness.runtime, attempt_id) == "progress"
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        attempt.created_at -= timedelta(seconds=harness.settings.reconcile_deadline_s)
    assert await check_attempt(harness.runtime, attempt_id) == "settled"
    final = await harness.read(body["id"])
    assert (final["status"], final["outcome"]) == ("delivered", "delivered")
    assert final["attempts"][0]["provider_status"] == "sent"
