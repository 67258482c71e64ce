"""The console in a real browser: Chromium from the Debian package, driven by Playwright (its
own browser download cannot work here), against the harness's web app and sandbox."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from dialer.apikeys import create_api_key
from dialer.db import session_scope
from dialer.vocabulary import Scope
from tests.conftest import make_database_url
from tests.support import Harness

CHROMIUM = Path(os.environ.get("DIALER_CHROMIUM", "/usr/bin/chromium"))
# As root, without the sandbox; and nothing that would reach outside this machine.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite only, for the pages in a browser: what they read is tested on both databases
    where it is written (the tallies, the searches), and by the modules here that ask for both
    with `both_databases`."""
    return make_database_url(request, tmp_path, "sqlite")


@pytest.fixture(params=["sqlite", "postgresql"])
def both_databases(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return make_database_url(request, tmp_path, request.param)


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set DIALER_CHROMIUM)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def new_key(harness: Harness, scope: Scope = Scope.admin, name: str = "front desk") -> str:
    async with session_scope(harness.runtime.sessions) as session:
        return await create_api_key(session, name, scope)


async def signed_in(
    browser: Browser, harness: Harness, key: str, width: int = 1280, path: str = "/campaigns"
) -> Page:
    """A new browser context, signed in with `key`, on `path`."""
    context = await browser.new_context(
        base_url=str(harness.api.base_url), viewport={"width": width, "height": 900}
    )
    page = await context.new_page()
    await page.goto(path)
    await page.fill("#api_key", key)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")
    return page
