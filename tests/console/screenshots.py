"""The README's pictures of the console, made from a real run: `bash .ci/dev screenshots`.

It starts what `dialer demo` starts (the sandbox, the web process, a worker, embedded Redis and
SQLite), runs the demo's CSV campaign to the end, and photographs the pages in Debian's
Chromium, wide and narrow. Japanese text needs a CJK font on the machine (fonts-noto-cjk)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.async_api import Page, async_playwright

from dialer.demo import demo_campaign_csv, demo_stack, run_demo_campaign
from tests.console.conftest import ARGS, CHROMIUM

OUT = Path(__file__).resolve().parents[2] / "docs" / "console"


async def _shoot(page: Page, path: str, name: str) -> None:
    await page.goto(path)
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(700)  # the chart's first drawing
    target = OUT / f"{name}.png"
    await page.screenshot(path=str(target), full_page=True)
    print(f"wrote {target.relative_to(OUT.parents[1])}")


async def main() -> int:
    from rich.console import Console

    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="dialer-shots-"))
    async with demo_stack(0.05) as stack, async_playwright() as playwright:
        campaign = await run_demo_campaign(Console(quiet=True), stack.api, 40, 120)
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for width, suffix in ((1280, ""), (390, "-narrow")):
            context = await browser.new_context(
                base_url=stack.web_url, viewport={"width": width, "height": 900}
            )
            page = await context.new_page()
            await page.goto("/login")
            await page.fill("#api_key", stack.key)
            await page.click("button[type=submit]")
            await page.wait_for_url("**/campaigns")
            await _shoot(page, f"/campaigns/{campaign['id']}", f"campaign{suffix}")
            if not suffix:
                await _shoot(page, "/campaigns", "campaigns")
                await page.goto("/campaigns/new")
                await page.fill("#name", "健診のご案内")
                await page.fill("#from", "+81312345678")
                await page.fill("#template", "{{ 氏名 }}様、{{ 日時 }}に健診があります。")
                sample = workdir / "予約.csv"
                sample.write_bytes(demo_campaign_csv(5))
                await page.set_input_files("#file", str(sample))
                await page.wait_for_selector("#preview-rows")
                await page.screenshot(path=str(OUT / "new-campaign.png"), full_page=True)
                print("wrote docs/console/new-campaign.png")
            await context.close()
        await browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
