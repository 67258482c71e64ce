"""Webhooks go to public addresses only, unless the settings allow the inside of the network:
refused at registration, and again at delivery on the address the connection would use."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from dialer.db import session_scope
from dialer.models import WebhookEndpoint
from dialer.webhooks.delivery import deliver_due
from dialer.webhooks.destinations import GuardedTransport, address_refusal, url_refusal
from tests.support import Harness
from tests.webhooks.receiver import Receiver

INSIDE = [
    "http://127.0.0.1:8000/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "http://api.localhost/",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
]


@pytest.mark.parametrize("url", INSIDE)
def test_a_url_inside_the_network_is_refused(url: str) -> None:
    assert url_refusal(url, allow_private=False) is not None
    assert url_refusal(url, allow_private=True) is None


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/"])
def test_only_http_and_https(url: str) -> None:
    assert url_refusal(url, allow_private=True) == "a webhook URL is http or https"


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_a_public_address_is_fine(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None
    assert (
        url_refusal(
            f"https://[{address}]/x" if ":" in address else f"https://{address}/x",
            allow_private=False,
        )
        is None
    )


async def test_registration_refuses_the_inside_unless_allowed(harness: Harness) -> None:
    harness.runtime.settings.webhook_allow_private = False
    # The web process reads the same settings object in this harness.
    # The last two are loopback only once resolved.
    for url in (
        "http://127.0.0.1:9/",
        "http://169.254.169.254/",
        "http://localhost:1/",
        "http://127.1/",
        "http://2130706433/",
    ):
        answer = await harness.api.post("/v1/webhooks", json={"url": url})
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "url"]


async def test_a_name_resolving_inside_is_refused_at_delivery(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    events, url = receiver
    # A receiver that is really there, reached by a name that resolves to loopback.
    named = url.replace("127.0.0.1", "localhost")
    async with httpx.AsyncClient(transport=GuardedTransport()) as client:
        with pytest.raises(httpx.ConnectError, match="refused"):
            await client.post(named, json={})
    assert events.taken == [] and events.refused == 0


async def test_delivery_does_not_reach_an_inside_address_stored_before_the_rule(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    events, url = receiver
    answer = await harness.api.post("/v1/webhooks", json={"url": url})
    assert answer.status_code == 201
    body = await harness.notify("+819012345670", webhook_url=url)
    await harness.api.post(f"/v1/notifications/{body['id']}/cancel")
    harness.runtime.settings.webhook_allow_private = False
    counts = await deliver_due(harness.runtime)
    assert counts.get("delivered", 0) == 0 and events.taken == [] and events.refused == 0
    async with session_scope(harness.runtime.sessions) as session:
        endpoint = await session.get(WebhookEndpoint, answer.json()["id"])
        assert endpoint is not None
    tries = (await harness.api.get(f"/v1/webhooks/{answer.json()['id']}/events")).json()
    assert tries and all(e["status"] == "pending" for e in tries)
