"""Signing in to the console with an API key, in a real browser; and what is refused."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser

from dialer.console.auth import SESSION_COOKIE
from dialer.vocabulary import Scope
from tests.console.conftest import new_key, signed_in
from tests.support import Harness


async def test_a_visitor_signs_in_with_a_key_comes_back_where_they_were_and_signs_out(
    browser: Browser, harness: Harness
) -> None:
    key = await new_key(harness, name="受付")
    context = await browser.new_context(base_url=str(harness.api.base_url))
    page = await context.new_page()
    await page.goto("/campaigns?status=running")
    assert page.url.endswith("/login?next=/campaigns%3Fstatus%3Drunning")
    await page.fill("#api_key", "dk_000000000000_not-a-key")
    await page.click("button[type=submit]")
    assert await page.locator("[role=alert]").inner_text() == (
        "That API key is not valid, or it has been revoked."
    )
    await page.fill("#api_key", key)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/campaigns?status=running")
    assert await page.locator("header .who").inner_text() == "受付 admin\nSign out"
    [cookie] = [c for c in await context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    assert key not in cookie["value"]
    await page.click("text=Sign out")
    await page.wait_for_url("**/login")
    await page.goto("/campaigns")
    assert "/login" in page.url


async def test_a_revoked_key_ends_its_console_sessions(browser: Browser, harness: Harness) -> None:
    key = await new_key(harness, Scope.viewer)
    page = await signed_in(browser, harness, key)
    prefix = key.split("_")[1]
    from dialer.apikeys import revoke_api_key
    from dialer.db import session_scope

    async with session_scope(harness.runtime.sessions) as session:
        await revoke_api_key(session, prefix)
    await page.goto("/campaigns")
    assert "/login" in page.url


async def test_sign_in_without_the_form_token_is_refused(harness: Harness) -> None:
    key = await new_key(harness)
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as client:
        answer = await client.post("/login", data={"api_key": key, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


async def test_next_never_leads_to_another_site(harness: Harness) -> None:
    key = await new_key(harness)
    for target in ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"]:
        async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as client:
            form = await client.get("/login", params={"next": target})
            token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            answer = await client.post(
                "/login", data={"api_key": key, "csrf_token": token, "next": target}
            )
            assert answer.status_code == 303
            assert answer.headers["location"] == "/campaigns", target


async def test_the_session_cookie_is_secure_behind_an_https_public_url(harness: Harness) -> None:
    from dialer.app import create_app
    from dialer.serve import free_port, running_server

    # Nothing listens there: the start-up check of the public URL fails at once, locally.
    settings = harness.settings.model_copy(update={"public_url": "https://127.0.0.1:1"})
    port = free_port()
    key = await new_key(harness)
    async with (
        running_server(create_app(settings, harness.redis_url), "127.0.0.1", port),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        form = await client.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        # A client keeps a Secure cookie for https only: this one is handed back by hand.
        nonce = form.headers["set-cookie"].split(";")[0]
        answer = await client.post(
            "/login", data={"api_key": key, "csrf_token": token}, headers={"Cookie": nonce}
        )
    [session] = [c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    assert "Secure" in session and "HttpOnly" in session and "SameSite=strict" in session
