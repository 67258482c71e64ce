"""Every console page at a phone's width (390 px) and a desktop's (1280 px): nothing wider than
the screen, every control labelled, Japanese text shown as it was given."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from dialer.serve import running_worker
from tests.console.conftest import new_key, signed_in
from tests.support import Harness

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => e.tagName === 'BUTTON'
      ? !(e.innerText.trim() || e.getAttribute('aria-label'))
      : !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map(e => e.outerHTML.slice(0, 120))"""
WIDER = "() => document.documentElement.scrollWidth - window.innerWidth"


async def _check(page: Page, path: str) -> None:
    answer = await page.goto(path)
    assert answer is not None and answer.status == 200, path
    assert await page.evaluate(UNLABELLED) == [], path
    assert await page.evaluate(WIDER) <= 0, (path, await page.evaluate(WIDER))


@pytest.mark.parametrize("width", [390, 1280])
async def test_every_page_fits_the_screen_and_labels_its_controls(
    browser: Browser, harness: Harness, width: int
) -> None:
    created = await harness.api.post(
        "/v1/campaigns",
        json={
            "name": "秋の健康診断のご案内（長い名前のキャンペーン）",
            "channel": "tts",
            "from": "+81312345678",
            "template": "{{ 氏名 }}様、健診のご案内です。",
            "schedule": {"window_start": "00:00", "window_end": "23:59"},
        },
    )
    campaign_id = created.json()["id"]
    contacts = [{"phone": f"090-1234-567{i}", "variables": {"氏名": f"山田 {i}"}} for i in range(3)]
    await harness.api.post(
        f"/v1/campaigns/{campaign_id}/contacts/json", json={"contacts": contacts}
    )
    sent = await harness.notify("+819012345670")
    async with running_worker(harness.settings, harness.redis_url):
        await harness.wait_final(sent["id"])
    await harness.api.post("/v1/do-not-contact", json={"number": "090-1234-5679"})
    page = await signed_in(browser, harness, await new_key(harness), width=width)
    for path in [
        "/campaigns",
        "/campaigns/new",
        f"/campaigns/{campaign_id}",
        "/notifications",
        f"/notifications/{sent['id']}",
        "/do-not-contact?number=09012345679",
        "/webhooks",
        "/providers",
    ]:
        await _check(page, path)
    await page.goto(f"/campaigns/{campaign_id}")
    assert await page.locator("h1").inner_text() == "秋の健康診断のご案内（長い名前のキャンペーン）"
    assert "山田 0様、健診のご案内です。" in await page.locator("#contact-previews").inner_text()
