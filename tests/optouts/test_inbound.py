"""Texts sent back to a Voxology number: STOP adds the sender to the do-not-contact list, START
removes them; replayed, forged and out-of-order callbacks change nothing they should not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dialer.optouts.inbound import CLOCK_SKEW, keyword, message_time
from dialer.providers.voxology import VoxologyProvider
from dialer.sandbox.voxology import inbound_message_payload
from dialer.security import FLOW_SECRET_HEADER, flow_secret
from tests.support import Harness

OURS = "+14155550100"
THEM = "+14155550177"


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("  Stop. ", "stop"),
        ("STOPALL", "stop"),
        ("Unsubscribe", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("quit!", "stop"),
        ("ＳＴＯＰ", "stop"),
        ("停止", "stop"),
        ("配信停止。", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("please don't stop", None),
        ("STOP IT", None),
        ("", None),
        ("Thanks!", None),
    ],
)
def test_a_keyword_is_the_whole_message(text: str, asked: str | None) -> None:
    assert keyword(text) == asked


async def _configured(harness: Harness) -> None:
    """Our number's callbacks, calls and texts, point at the dialer (as before a first call)."""
    provider = harness.runtime.providers["voxology"]
    assert isinstance(provider, VoxologyProvider)
    url = f"{harness.settings.public_url}/v1/flows/voxology"
    await provider.configure_number(OURS, url, {FLOW_SECRET_HEADER: _flow_secret(harness)})


async def _text(harness: Harness, text: str, created_on: str | None = None) -> dict[str, Any]:
    body = {"from": THEM, "to": OURS, "text": text, "created_on": created_on}
    answer = await harness.api.post(
        f"{harness.sandbox_url}/_sandbox/voxology/inbound-sms", json=body
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["status_code"] == 200
    return result


async def _listed(harness: Harness) -> list[str]:
    return [e["number"] for e in (await harness.api.get("/v1/do-not-contact")).json()]


async def _history(harness: Harness) -> list[tuple[str, str]]:
    events = (
        await harness.api.get(f"/v1/do-not-contact/{THEM.replace('+', '%2B')}/history")
    ).json()
    return [(e["change"], e["source"]) for e in events]


async def test_stop_then_start_by_text_with_every_change_recorded(harness: Harness) -> None:
    await _configured(harness)
    await _text(harness, "Stop")
    assert await _listed(harness) == [THEM]
    assert (await harness.notify(THEM))["status"] == "suppressed"
    await _text(harness, "STOP")  # already on the list: recorded, nothing changes
    await _text(harness, "start")
    assert await _listed(harness) == []
    await harness.api.post("/v1/do-not-contact", json={"number": THEM})
    await _text(harness, "配信停止")
    assert await _history(harness) == [
        ("added", "sms"),
        ("unchanged", "sms"),
        ("removed", "sms"),
        ("added", "api"),
        ("unchanged", "sms"),
    ]


async def test_a_replayed_or_late_message_changes_nothing(harness: Harness) -> None:
    await _configured(harness)
    stop = (await _text(harness, "STOP", created_on="2026-11-23T10:00:00.000Z"))["message"]
    flows = f"{harness.settings.public_url}/v1/flows/voxology"
    headers = {FLOW_SECRET_HEADER: _flow_secret(harness)}
    async with httpx.AsyncClient() as client:
        # The provider retrying its callback: the same message id again.
        assert (await client.post(flows, json=stop, headers=headers)).status_code == 200
        # A START sent before the STOP, arriving after it: the STOP stands.
        late = inbound_message_payload(OURS, THEM, "START", "2026-11-23T09:59:00.000Z")
        assert (await client.post(flows, json=late, headers=headers)).status_code == 200
        # Forged: no secret, or a wrong one.
        start = inbound_message_payload(OURS, THEM, "START", "2026-11-23T11:00:00.000Z")
        assert (await client.post(flows, json=start)).status_code == 403
        forged = {FLOW_SECRET_HEADER: "0" * 40}
        assert (await client.post(flows, json=start, headers=forged)).status_code == 403
    assert await _listed(harness) == [THEM]
    # In the order people asked: the late START first, recorded as changing nothing.
    assert await _history(harness) == [("unchanged", "sms"), ("added", "sms")]


def _flow_secret(harness: Harness) -> str:
    return flow_secret(harness.settings.secret_key.get_secret_value())


async def _deliver(harness: Harness, payload: dict[str, Any]) -> httpx.Response:
    flows = f"{harness.settings.public_url}/v1/flows/voxology"
    async with httpx.AsyncClient() as client:
        return await client.post(
            flows, json=payload, headers={FLOW_SECRET_HEADER: _flow_secret(harness)}
        )


async def test_a_message_dated_in_the_future_cannot_disable_a_later_stop(
    harness: Harness,
) -> None:
    start = inbound_message_payload(OURS, THEM, "START", "2099-01-01T00:00:00.000Z")
    assert (await _deliver(harness, start)).status_code == 200
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stop = inbound_message_payload(OURS, THEM, "STOP", now)
    assert (await _deliver(harness, stop)).status_code == 200
    assert await _listed(harness) == [THEM]
    assert (await harness.notify(THEM))["status"] == "suppressed"


async def test_a_stop_dated_in_the_future_does_not_outrank_a_start_for_years(
    harness: Harness,
) -> None:
    stop = inbound_message_payload(OURS, THEM, "STOP", "2099-01-01T00:00:00.000Z")
    assert (await _deliver(harness, stop)).status_code == 200
    assert await _listed(harness) == [THEM]
    later = (datetime.now(UTC) + CLOCK_SKEW + timedelta(minutes=1)).isoformat()
    start = inbound_message_payload(OURS, THEM, "START", later.replace("+00:00", "Z"))
    assert (await _deliver(harness, start)).status_code == 200
    assert await _listed(harness) == []


async def test_a_stop_always_wins_over_a_start_received_before_it(harness: Harness) -> None:
    await harness.api.post("/v1/do-not-contact", json={"number": THEM})
    now = datetime.now(UTC)
    start = inbound_message_payload(OURS, THEM, "START", now.isoformat())
    assert (await _deliver(harness, start)).status_code == 200
    assert await _listed(harness) == []
    # Dated before the START, received after it: the person asked to stop, and that stands.
    earlier = (now - timedelta(hours=1)).isoformat()
    stop = inbound_message_payload(OURS, THEM, "STOP", earlier)
    assert (await _deliver(harness, stop)).status_code == 200
    assert await _listed(harness) == [THEM]


async def test_a_message_time_without_an_offset_is_read_as_utc(harness: Harness) -> None:
    stop = inbound_message_payload(OURS, THEM, "STOP", "2026-11-23T09:00:00")
    assert (await _deliver(harness, stop)).status_code == 200
    assert await _listed(harness) == [THEM]


@pytest.mark.parametrize("created_on", ["garbage", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
async def test_a_message_with_a_malformed_time_is_422(harness: Harness, created_on: str) -> None:
    stop = inbound_message_payload(OURS, THEM, "STOP", "2026-11-23T09:00:00Z")
    answer = await _deliver(harness, {**stop, "created_on": created_on})
    assert answer.status_code == 422
    assert await _listed(harness) == []


def test_a_provider_time_counts_for_no_more_than_our_receipt_plus_the_skew() -> None:
    received = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert message_time(None, received) == received
    assert message_time(received - timedelta(hours=1), received) == received - timedelta(hours=1)
    assert message_time(datetime(2099, 1, 1, tzinfo=UTC), received) == received + CLOCK_SKEW
