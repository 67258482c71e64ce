"""/webhooks and /providers in a real browser: an endpoint registered from the console gets its
events, each with its tries and body, and one is sent again; each provider's balance and
limits as the API tells them."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from dialer.serve import running_worker
from tests.console.conftest import new_key, signed_in
from tests.support import Harness, wait_for
from tests.webhooks.receiver import Receiver


async def test_an_endpoint_registered_here_shows_its_events_and_resends_one(
    browser: Browser, harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    page = await signed_in(browser, harness, await new_key(harness), path="/webhooks")
    await page.fill("#url", url)
    await page.click("button:has-text('Register')")
    await expect(page.locator("#registered")).to_contain_text(f"Registered: {url}")
    secret = await page.locator("code.secret").inner_text()
    [endpoint] = (await harness.api.get("/v1/webhooks")).json()
    assert (await harness.api.get(f"/v1/webhooks/{endpoint['id']}")).json()["secret"] == secret

    sent = await harness.notify("+819012345670", webhook_url=url)
    async with running_worker(harness.settings, harness.redis_url):
        await harness.wait_final(sent["id"])

        async def both() -> bool:
            return len(got.taken) >= 2

        await wait_for(both, 20, "two events at the receiver")
        await page.click("#endpoints a")
        events = page.locator("#events tbody tr")
        await expect(events).to_have_count(2)
        await page.click("#events tbody tr:last-child a")
        await expect(page.locator("h1")).to_contain_text("attempt.finished")
        event_id = page.url.rsplit("/", 1)[1]
        await expect(page.locator("#tries tbody tr")).to_have_count(1)
        await expect(page.locator("pre.body")).to_contain_text(f'"id": {sent["id"]}')
        await page.click("button:has-text('Send again')")
        await expect(page.locator("#status")).to_have_text("pending")

        async def again() -> bool:
            return len(got.taken) >= 3

        await wait_for(again, 20, "the event sent again")
    assert [r.event_id for r in got.taken].count(event_id) == 2


async def test_a_bad_or_inside_url_is_refused_with_its_reason(
    browser: Browser, harness: Harness
) -> None:
    page = await signed_in(browser, harness, await new_key(harness), path="/webhooks")
    await page.fill("#url", "ftp://example.com/x")
    await page.click("button:has-text('Register')")
    await expect(page.locator("[role=alert]")).to_contain_text("url:")
    assert (await harness.api.get("/v1/webhooks")).json() == []


async def test_providers_show_balance_limits_and_pacing(browser: Browser, harness: Harness) -> None:
    told = {p["name"]: p for p in (await harness.api.get("/v1/providers")).json()}
    page = await signed_in(browser, harness, await new_key(harness), path="/providers")
    for name, account in told.items():
        card = page.locator(f"#provider-{name}")
        await expect(card.locator(".balance")).to_have_text(
            f"{account['balance']:,.2f} {account['unit']}"
        )
        await expect(card.locator("tbody tr")).to_have_count(len(account["pacing"]))
        await expect(card).to_contain_text(f"{name} calls (account)")
