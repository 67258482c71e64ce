"""The sandbox's Voxology half, driven by our Voxology adapter over HTTP and by raw requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from dialer.providers.base import AuthFailed, Rejected, SmsRequest
from dialer.providers.voxology import VoxologyProvider
from dialer.sandbox import SandboxConfig, create_sandbox_app
from dialer.sandbox.state import SandboxAccount
from dialer.serve import free_ports, running_server
from dialer.vocabulary import Outcome
from tests.support import wait_for


@dataclass
class Peer:
    url: str
    account: SandboxAccount
    provider: VoxologyProvider
    webhooks: list[dict[str, Any]]
    webhook_url: str


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    sandbox = create_sandbox_app(
        SandboxConfig(voxology_api_key="vk", time_scale=0.05, voxology_basic_auth="acct:pw")
    )
    received: list[dict[str, Any]] = []
    receiver = FastAPI()

    @receiver.post("/status")
    async def status(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=200)

    sandbox_port, receiver_port = free_ports(2)
    async with (
        running_server(sandbox, "127.0.0.1", sandbox_port),
        running_server(receiver, "127.0.0.1", receiver_port),
        httpx.AsyncClient() as client,
    ):
        provider = VoxologyProvider(
            client,
            api_key="vk",
            basic_auth="acct:pw",
            base_url=f"http://127.0.0.1:{sandbox_port}/v1",
        )
        yield Peer(
            f"http://127.0.0.1:{sandbox_port}",
            sandbox.state.account,
            provider,
            received,
            f"http://127.0.0.1:{receiver_port}/status",
        )


def _sms(peer: Peer, to: str) -> SmsRequest:
    return SmsRequest(
        sender="+14155550100",
        recipient=to,
        message="Hello",
        tag="attempt-4",
        callback_url=peer.webhook_url,
    )


@pytest.mark.parametrize(
    ("to", "statuses", "outcome"),
    [
        ("+14155550123", ["queued", "sending", "sent", "delivered"], Outcome.delivered),
        ("+14155550129", ["queued", "sending", "sent", "undelivered"], Outcome.failed),
        ("+14155550128", ["opt-out"], Outcome.opted_out),
    ],
)
async def test_a_message_reports_each_status_to_its_webhook(
    peer: Peer, to: str, statuses: list[str], outcome: Outcome
) -> None:
    placed = await peer.provider.send_sms(_sms(peer, to))
    assert placed.provider_id.startswith("SMO:") and placed.parts == 1

    async def finished() -> bool:
        return len(peer.webhooks) == len(statuses)

    await wait_for(finished, 10, "every status webhook")
    assert [w["status"] for w in peer.webhooks] == statuses
    assert {w["external_id"] for w in peer.webhooks} == {"attempt-4"}
    assert {w["message_id"] for w in peer.webhooks} == {placed.provider_id}
    report = await peer.provider.message_status(placed.provider_id)
    assert report.outcome is outcome and report.tags == ["attempt-4"]


async def test_wrong_key_and_bad_fields_get_voxology_error_bodies(peer: Peer) -> None:
    async with httpx.AsyncClient(base_url=f"{peer.url}/v1") as raw:
        wrong = await raw.post("/Messages", json={}, headers={"X-API-Key": "nope"})
        bad = await raw.post(
            "/Messages",
            json={"api_no": "123", "caller_no": "+14155550123", "text_message": ""},
            headers={"X-API-Key": "vk"},
        )
    assert wrong.status_code == 401 and wrong.json()["code"] == 401001
    assert set(wrong.json()) == {"ref_id", "status", "code", "message", "help", "user_message"}
    assert bad.status_code == 400 and "api_no, text_message" in bad.json()["message"]
    with pytest.raises(Rejected):
        await peer.provider.send_sms(
            SmsRequest(
                sender="ACME", recipient="+14155550123", message="x", callback_url="", tag="t"
            )
        )


async def test_balance_needs_account_level_basic_auth(peer: Peer) -> None:
    assert await peer.provider.balance() == 100.0
    async with httpx.AsyncClient() as client:
        stranger = VoxologyProvider(
            client, api_key="vk", basic_auth="acct:wrong", base_url=f"{peer.url}/v1"
        )
        with pytest.raises(AuthFailed):
            await stranger.balance()
