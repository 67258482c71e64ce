"""/notifications in a real browser: every message to a number, campaigns included, and one
notification's attempts as a timeline."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from dialer.serve import running_worker
from tests.console.conftest import new_key, signed_in
from tests.support import Harness


@pytest.fixture
def database_url(both_databases: str) -> str:
    """Both databases here: the searches and the refusals are the console's own."""
    return both_databases


NUMBER = "+819012345670"


async def test_a_number_finds_its_messages_and_each_shows_its_attempts(
    browser: Browser, harness: Harness
) -> None:
    async with running_worker(harness.settings, harness.redis_url):
        first = await harness.notify(NUMBER)
        other = await harness.notify("+819012345671")
        await harness.wait_final(first["id"])
        await harness.wait_final(other["id"])
    created = await harness.api.post(
        "/v1/campaigns",
        json={"name": "点検のお知らせ", "channel": "tts", "from": "+81312345678", "template": "x"},
    )
    campaign_id = created.json()["id"]
    await harness.api.post(
        f"/v1/campaigns/{campaign_id}/contacts/json",
        json={"contacts": [{"phone": "090-1234-5670"}, {"phone": "090-1234-5679"}]},
    )
    page = await signed_in(browser, harness, await new_key(harness), path="/notifications")
    rows = page.locator("#notifications tbody tr")
    await expect(rows).to_have_count(2)  # the API's, not the campaign's contacts
    await page.fill("#number", "090-1234-5670")
    await page.click("button:has-text('Search')")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("held")
    await expect(rows.nth(0)).to_contain_text(str(campaign_id))
    await expect(rows.nth(1)).to_contain_text("delivered")
    await page.select_option("#status", "delivered")
    await page.click("button:has-text('Search')")
    await expect(rows).to_have_count(1)
    await page.click(f"text={first['id']}")
    await expect(page.locator("h1")).to_have_text(f"Notification {first['id']} to {NUMBER}")
    timeline = page.locator("#timeline li")
    await expect(timeline).to_have_count(1)
    told = (await harness.api.get(f"/v1/notifications/{first['id']}")).json()["attempts"][0]
    await expect(timeline).to_contain_text(f"Provider status{told['provider_status']}")
    await expect(timeline).to_contain_text("answered")
    await expect(timeline).to_contain_text(told["provider_id"])


async def test_a_search_that_is_not_a_number_or_a_date_says_so(
    browser: Browser, harness: Harness
) -> None:
    page = await signed_in(browser, harness, await new_key(harness), path="/notifications")
    response = await page.goto("/notifications?number=call+me&since=yesterday&status=nope")
    assert response is not None and response.status == 422
    alert = page.locator("[role=alert]")
    await expect(alert).to_contain_text("'call me' is not a phone number")
    await expect(alert).to_contain_text("since: 'yesterday' is not a date")
    await expect(alert).to_contain_text("no status 'nope'")
    missing = await page.goto("/notifications/999999")
    assert missing is not None and missing.status == 404
