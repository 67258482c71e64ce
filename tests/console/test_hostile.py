"""The console against what a browser never sends: any path parameter, query or form gets a page
or a clear 4xx, never a 500; a viewer's POST to any console route is 403, whatever it sends; a
request with no session is sent to sign in."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.console.auth import SESSION_COOKIE
from dialer.console.sessions import SignedIn, csrf_token, new_nonce, seal
from dialer.console.site import ROUTERS
from dialer.db import read_scope
from dialer.models import ApiKey
from dialer.vocabulary import Scope
from tests.console.conftest import new_key
from tests.support import Harness


@pytest.fixture
def database_url(both_databases: str) -> str:
    """Both databases here: the searches and the refusals are the console's own."""
    return both_databases


# Sign-in itself, and / (which only sends everyone on to /campaigns).
PUBLIC = {"/login", "/logout", "/"}


def _console_routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


async def _session(harness: Harness, scope: Scope) -> tuple[httpx.AsyncClient, str]:
    key = await new_key(harness, scope)
    async with read_scope(harness.runtime.sessions) as session:
        from sqlmodel import select

        stored = (
            await session.exec(select(ApiKey).where(ApiKey.prefix == key.split("_")[1]))
        ).one()
    assert stored.id is not None
    signed = SignedIn(stored.id, new_nonce(), int(time.time()))
    secret = harness.settings.secret_key.get_secret_value()
    client = httpx.AsyncClient(
        base_url=str(harness.api.base_url),
        cookies={SESSION_COOKIE: seal(secret, signed)},
        timeout=30,
    )
    return client, csrf_token(secret, signed)


@pytest.fixture
async def admin(harness: Harness) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    client, token = await _session(harness, Scope.admin)
    async with client:
        yield client, token


async def test_every_console_post_is_403_for_a_viewer_and_changes_nothing(
    harness: Harness,
) -> None:
    created = await harness.api.post(
        "/v1/campaigns",
        json={"name": "x", "channel": "tts", "from": "+81312345678", "template": "hi"},
    )
    posts = [p for m, p in _console_routes() if m == "POST" and p not in PUBLIC]
    actions = ("start", "pause", "resume", "cancel")
    posts = [
        p.replace("{action}", a) for p in posts for a in (actions if "{action}" in p else [""])
    ]
    assert len(posts) >= 13, posts
    client, token = await _session(harness, Scope.viewer)
    async with client:
        for path in posts:
            filled = re.sub(r"\{[^/]+\}", str(created.json()["id"]), path)
            form = {
                "csrf_token": token,
                "confirm": "yes",
                "number": "+819012345678",
                "url": "https://example.com/x",
            }
            answer = await client.post(filled, data=form)
            assert answer.status_code == 403, (path, answer.status_code)
    assert (await harness.api.get(f"/v1/campaigns/{created.json()['id']}")).json()[
        "status"
    ] == "draft"
    assert (await harness.api.get("/v1/do-not-contact")).json() == []
    assert (await harness.api.get("/v1/webhooks")).json() == []


async def test_without_a_session_every_console_page_leads_to_sign_in(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), timeout=30) as anonymous:
        for method, path in _console_routes():
            if path in PUBLIC:
                continue
            filled = re.sub(r"\{[^/]+\}", "1", path)
            answer = await anonymous.request(method, filled)
            assert answer.status_code == 303, (method, path, answer.status_code)
            assert answer.headers["location"].startswith("/login?next="), path
            htmx = await anonymous.request(method, filled, headers={"HX-Request": "true"})
            assert htmx.headers.get("HX-Redirect", "").startswith("/login?next="), path


_texts = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["-1", "0", "99999999999999999999", "１", "../..", "%00", "a\x00b", "<script>"]
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.integers(min_value=0, max_value=1000),
    segment=_texts,
    query=st.dictionaries(
        st.sampled_from(["status", "before", "number", "since", "until", "shown", "next", "bom"]),
        _texts,
        max_size=4,
    ),
    form=st.dictionaries(_texts, _texts, max_size=6),
)
async def test_any_request_to_the_console_is_answered_without_a_500(
    harness: Harness,
    admin: tuple[httpx.AsyncClient, str],
    route: int,
    segment: str,
    query: dict[str, str],
    form: dict[str, str],
) -> None:
    client, token = admin
    routes = _console_routes()
    method, path = routes[route % len(routes)]
    filled = re.sub(r"\{[^/]+\}", lambda _: quote(segment, safe="") or "x", path)
    body = {**form, "csrf_token": token} if method == "POST" else None
    answer = await client.request(method, filled, params=query, data=body)
    assert answer.status_code < 500, (method, filled, query, form, answer.text[:300])
