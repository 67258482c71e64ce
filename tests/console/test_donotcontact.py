"""/do-not-contact in a real browser: add, look up with its history, import, export, remove."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.async_api import Browser, expect

from dialer.vocabulary import Scope
from tests.console.conftest import new_key, signed_in
from tests.support import Harness


async def test_numbers_are_added_imported_exported_and_removed(
    browser: Browser, harness: Harness, tmp_path: Path
) -> None:
    page = await signed_in(browser, harness, await new_key(harness), path="/do-not-contact")
    await page.fill("#add-number", "090-1234-0001")
    await page.fill("#add-reason", "電話で依頼")
    await page.click("button:has-text('Add to the list')")
    await expect(page.locator("#notice")).to_have_text("+819012340001 is on the list.")
    await expect(page.locator("#history tbody tr")).to_have_count(1)
    await expect(page.locator("#history")).to_contain_text("added")
    await expect(page.locator("#history")).to_contain_text("電話で依頼")

    upload = tmp_path / "numbers.csv"
    upload.write_text("number,reason\n09012340002,letter\nnonsense,x\n090-1234-0001,\n")
    await page.set_input_files("#import-file", str(upload))
    await page.click("button:has-text('Import')")
    report = page.locator("#import-report")
    await expect(report).to_contain_text("3 rows: 1 added, 1 on the list already, 1 not taken.")
    await expect(report.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("#entries tbody tr")).to_have_count(2)

    async with page.expect_download() as waiting:
        await page.click("text=Download as CSV")
    path = await (await waiting.value).path()
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == ["+819012340001", "+819012340002"]

    await page.fill("#lookup", "09012340001")
    await page.click("button:has-text('Look up')")
    await page.fill("#remove-reason", "本人が再開を希望")
    await page.click("button:has-text('Remove from the list')")
    await expect(page.locator("#notice")).to_have_text("+819012340001 is off the list.")
    await expect(page.locator("#found")).to_contain_text("Not on any list")
    await expect(page.locator("#history tbody tr")).to_have_count(2)
    listed = (await harness.api.get("/v1/do-not-contact")).json()
    assert [e["number"] for e in listed] == ["+819012340002"]


async def test_a_viewer_looks_up_but_cannot_change_the_list(
    browser: Browser, harness: Harness
) -> None:
    await harness.api.post("/v1/do-not-contact", json={"number": "090-1234-0003"})
    key = await new_key(harness, Scope.viewer)
    page = await signed_in(browser, harness, key, path="/do-not-contact?number=09012340003")
    await expect(page.locator("#found")).to_contain_text("On the global list")
    assert await page.locator("main form[method=post]").count() == 0
    answer = await page.request.post(
        "/do-not-contact/remove", form={"number": "+819012340003", "csrf_token": "x"}
    )
    assert answer.status == 403
    assert len((await harness.api.get("/v1/do-not-contact")).json()) == 1
