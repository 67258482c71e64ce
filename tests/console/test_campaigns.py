"""A campaign run from its console page in a real browser: started with its button, watched
to the end without a reload, paused and resumed, its files downloaded; and what a viewer key
and a forged form cannot do."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from dialer.serve import running_worker
from dialer.vocabulary import Scope
from tests.console.conftest import new_key, signed_in
from tests.support import Harness

ALL_DAY = {"window_start": "00:00", "window_end": "23:59"}
# By the sandbox's rule on the last digit: 0-6 answered, 7 no answer, 8 busy.
NUMBERS = ["+819012340001", "+819012340002", "+819012340007", "+819012340008"]


async def _campaign(harness: Harness, rows: list[str], **fields: Any) -> int:
    body = {
        "name": "予約のお知らせ 十二月",
        "channel": "tts",
        "from": "+81312345678",
        "template": "{{ 氏名 }}様、明日のご予約です。",
        "lang": "ja",
        "schedule": ALL_DAY,
        "policy": {"max_attempts": 1},
        **fields,
    }
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    text = "phone,氏名\n" + "".join(f"{row}\n" for row in rows)
    upload = await harness.api.post(
        f"/v1/campaigns/{campaign_id}/contacts",
        files={"file": ("予約.csv", text.encode(), "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    return campaign_id


async def _download(page: Page, link: str) -> list[list[str]]:
    async with page.expect_download() as waiting:
        await page.click(link)
    download = await waiting.value
    path = await download.path()
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


async def test_a_campaign_made_in_the_form_is_previewed_started_watched_and_downloaded(
    browser: Browser, harness: Harness, tmp_path: Path
) -> None:
    rows = [f"{n},山田 {i}" for i, n in enumerate(NUMBERS)]
    rows += ["not a number,鈴木", f"{NUMBERS[0]},重複"]
    upload = tmp_path / "予約.csv"
    upload.write_text("phone,氏名\n" + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    page = await signed_in(browser, harness, await new_key(harness))
    await page.click("text=New campaign")
    await page.fill("#name", "予約のお知らせ 十二月")
    await page.fill("#from", "+81312345678")
    await page.fill("#window_start", "00:00")
    await page.fill("#window_end", "23:59")
    await page.fill("#max_attempts", "1")
    await page.fill("#template", "{{ 氏名 }}様、明日のご予約です。")
    await page.set_input_files("#file", str(upload))
    preview = page.locator("#preview-rows tbody tr")
    await expect(preview).to_have_count(3)
    await expect(preview.nth(0)).to_contain_text("山田 0様、明日のご予約です。")
    await page.click("button:has-text('Create campaign')")
    await page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator("h1")).to_have_text("予約のお知らせ 十二月")
    await expect(page.locator("#status")).to_have_text("draft")
    # The import's counts and its bad rows, the message for the first contacts, the cost.
    await expect(page.locator("table.issues tbody tr")).to_have_count(2)
    await expect(page.locator("table.issues")).to_contain_text("invalid phone number")
    await expect(page.locator("table.issues")).to_contain_text("duplicate of row 2")
    await expect(page.locator("#contact-previews tbody tr").first).to_contain_text(
        "山田 0様、明日のご予約です。"
    )
    await expect(page.locator("#estimate")).to_contain_text("4 contacts to dial")
    await expect(page.locator("#estimate")).to_contain_text("Balance:")
    async with running_worker(harness.settings, harness.redis_url):
        await page.click("button:has-text('Start')")
        await expect(page.locator("#status")).to_have_text("running")
        loaded = await page.evaluate("performance.timeOrigin")
        # No reload from here: the live part brings each change in by itself.
        await expect(page.locator("#status")).to_have_text("completed", timeout=30_000)
        await expect(page.locator("#progress-text")).to_contain_text("100.0% · 4 of 4 done")
    assert await page.evaluate("performance.timeOrigin") != loaded  # completed: one refresh
    told = (await harness.api.get(f"/v1/campaigns/{campaign_id}")).json()["outcomes"]
    shown = await page.locator("#outcomes").inner_text()
    assert shown == "\n".join(f"{k}\t{v}" for k, v in sorted(told.items()))
    assert told["answered"] == 2 and sum(told.values()) == 4
    await expect(page.locator("#recent tbody tr")).to_have_count(4)
    await expect(page.locator("#chart canvas")).to_have_count(1, timeout=15_000)
    assert await page.locator("form[action$='/pause']").count() == 0

    results = await _download(page, "text=Download results.csv")
    assert results[0][:3] == ["import_id", "row", "氏名"]
    by_phone = {r[results[0].index("phone")]: r for r in results[1:]}
    assert sorted(by_phone) == sorted(NUMBERS)
    assert by_phone[NUMBERS[0]][2] == "山田 0"
    issues = await _download(page, "text=issues.csv")
    assert issues == [
        ["row", "phone", "reason"],
        ["6", "not a number", "invalid phone number: not a phone number"],
        ["7", NUMBERS[0], "duplicate of row 2"],
    ]


async def test_the_form_keeps_what_was_typed_and_names_what_is_wrong(
    browser: Browser, harness: Harness
) -> None:
    page = await signed_in(browser, harness, await new_key(harness), path="/campaigns/new")
    await page.fill("#name", "途中の下書き")
    await page.fill("#from", "+81312345678")
    await page.fill("#window_start", "20:00")
    await page.fill("#window_end", "09:00")
    await page.click("button:has-text('Create campaign')")
    alert = page.locator("[role=alert]")
    await expect(alert).to_contain_text("The campaign was not created")
    await expect(alert).to_contain_text("schedule: window_end must be after window_start")
    await page.fill("#window_start", "09:00")
    await page.fill("#window_end", "20:00")
    await page.click("button:has-text('Create campaign')")
    await expect(alert).to_contain_text("channel tts takes template, not recording_url")
    await expect(page.locator("#name")).to_have_value("途中の下書き")
    assert (await harness.api.get("/v1/campaigns")).json() == []


async def test_pause_with_a_reason_then_resume(browser: Browser, harness: Harness) -> None:
    # One call a second at most: the campaign is still running when the pause comes.
    numbers = [f"+8190123{i:05d}" for i in range(60)]
    campaign_id = await _campaign(
        harness, [f"{n},T{i}" for i, n in enumerate(numbers)], policy={"max_rate": 1}
    )
    await harness.api.post(f"/v1/campaigns/{campaign_id}/start")
    page = await signed_in(
        browser, harness, await new_key(harness), path=f"/campaigns/{campaign_id}"
    )
    await expect(page.locator("#status")).to_have_text("running")
    await page.fill("#reason", "受付が休みです")
    await page.click("button:has-text('Pause')")
    await expect(page.locator("#status")).to_have_text("paused")
    await expect(page.locator("#live")).to_contain_text("Paused: 受付が休みです")
    body = (await harness.api.get(f"/v1/campaigns/{campaign_id}")).json()
    assert (body["status"], body["pause_reason"]) == ("paused", "受付が休みです")
    await page.click("button:has-text('Resume')")
    await expect(page.locator("#status")).to_have_text("running")
    await page.click("button:has-text('Cancel campaign')")  # the box is not ticked: nothing
    await expect(page.locator("#status")).to_have_text("running")
    await page.check("input[name=confirm]")
    await page.click("button:has-text('Cancel campaign')")
    await expect(page.locator("#status")).to_have_text("canceled")


async def test_a_viewer_sees_the_pages_without_buttons_and_cannot_post(
    browser: Browser, harness: Harness
) -> None:
    campaign_id = await _campaign(harness, [f"{NUMBERS[0]},A"])
    page = await signed_in(
        browser, harness, await new_key(harness, Scope.viewer), path=f"/campaigns/{campaign_id}"
    )
    await expect(page.locator("#status")).to_have_text("draft")
    assert await page.locator("main button").count() == 0
    await expect(page.locator("header .badge")).to_have_text("viewer")
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    for action in ("start", "pause", "resume", "cancel"):
        answer = await page.request.post(
            f"/campaigns/{campaign_id}/{action}", form={"csrf_token": token or "", "confirm": "yes"}
        )
        assert answer.status == 403, action
    assert (await harness.api.get(f"/v1/campaigns/{campaign_id}")).json()["status"] == "draft"


async def test_a_forged_or_missing_csrf_token_is_refused(
    browser: Browser, harness: Harness
) -> None:
    campaign_id = await _campaign(harness, [f"{NUMBERS[0]},A"])
    page = await signed_in(
        browser, harness, await new_key(harness), path=f"/campaigns/{campaign_id}"
    )
    for form in ({"csrf_token": "0" * 64}, {}, {"csrf_token": "ｘ"}):
        answer = await page.request.post(f"/campaigns/{campaign_id}/start", form=form or None)
        assert answer.status == 403
        assert "security token" in await answer.text()
    assert (await harness.api.get(f"/v1/campaigns/{campaign_id}")).json()["status"] == "draft"


async def test_a_scripts_answers_are_shown_per_question(browser: Browser, harness: Harness) -> None:
    from sqlmodel import col, select

    from dialer.db import session_scope
    from dialer.models import Notification
    from tests.scripts.clinic import CLINIC

    script = {
        **CLINIC,
        "steps": {**CLINIC["steps"], "greet": {"say": "{{ 氏名 }}様", "next": "confirm"}},
    }
    campaign_id = await _campaign(
        harness,
        ["+14155550113,青木", "+14155550123,井上", "+14155550133,上田"],
        provider="voxology",
        channel="voice_flow",
        template=None,
        script=script,
        **{"from": "+14155550999"},
    )
    async with session_scope(harness.runtime.sessions) as session:
        found = await session.exec(
            select(Notification).where(col(Notification.campaign_id) == campaign_id)
        )
        contacts = sorted(found.all(), key=lambda n: n.to_number)
        for contact, label in zip(contacts, ["confirmed", "confirmed", "front desk"], strict=True):
            contact.answers = {"confirm": label}
            contact.answer = label
    page = await signed_in(
        browser, harness, await new_key(harness), path=f"/campaigns/{campaign_id}"
    )
    table = page.locator("#answers-1")
    await expect(table).to_contain_text("confirmed")
    assert await table.locator("tr").all_inner_texts() == ["confirmed\t2", "front desk\t1"]
    await expect(page.locator("h3", has_text="Answers to")).to_contain_text("confirm")
    await page.goto(f"{harness.settings.public_url}/notifications/{contacts[2].id}")
    await expect(page.locator("dl.facts").first).to_contain_text("front desk")
