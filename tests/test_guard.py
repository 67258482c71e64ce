"""Before any handler reads a body: the API's caller is authenticated and the body's size is
bounded, so an anonymous or oversized request costs the service next to nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from dialer.apikeys import create_api_key
from dialer.db import session_scope
from dialer.guard import READ_ONLY, SAFE_METHODS, needs_key
from dialer.vocabulary import Scope
from tests.support import Harness


# Refusals and bounds at the door, the same whatever the database: SQLite only.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


MB = 1024 * 1024


def _anonymous(harness: Harness) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=str(harness.api.base_url), timeout=30)


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_100_mb_body_without_a_key_is_refused_before_it_is_read(
    harness: Harness,
) -> None:
    async with _anonymous(harness) as anon:
        answer = await anon.post(
            "/v1/notifications",
            content=b"[" + b"1," * (50 * MB) + b"1]",
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


async def test_a_chunked_body_without_a_key_is_401(harness: Harness) -> None:
    async with _anonymous(harness) as anon:
        answer = await anon.post("/v1/campaigns", content=_chunks(5 * MB))
    assert answer.status_code == 401


@pytest.mark.parametrize("authorization", ["", "Bearer", "Basic abc", "Bearer " + "x" * 5000])
async def test_a_missing_or_malformed_key_is_401(harness: Harness, authorization: str) -> None:
    async with _anonymous(harness) as anon:
        answer = await anon.get("/v1/notifications", headers={"authorization": authorization})
    assert answer.status_code == 401


async def test_a_declared_body_over_the_limit_is_413_with_a_key(harness: Harness) -> None:
    answer = await harness.api.post(
        "/v1/notifications",
        content=b"{" + b" " * (2 * MB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert "over 1048576 bytes" in answer.json()["detail"]


async def test_a_chunked_body_over_the_limit_is_413(harness: Harness) -> None:
    answer = await harness.api.post(
        "/v1/notifications",
        content=_chunks(3 * MB),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413


async def test_a_chunked_body_under_the_limit_reaches_the_handler(harness: Harness) -> None:
    body = b'{"channel": "sms", "to": "+819012345670", "from": "+81312345678", "text": "hi"}'

    async def one_chunk() -> AsyncIterator[bytes]:
        yield body

    answer = await harness.api.post(
        "/v1/notifications", content=one_chunk(), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 202, answer.text


async def test_a_contact_upload_has_its_own_larger_limit(harness: Harness) -> None:
    created = await harness.api.post(
        "/v1/campaigns",
        json={"name": "x", "channel": "sms", "from": "+81312345678", "template": "hi"},
    )
    cid = created.json()["id"]
    rows = "phone\n" + "090-1234-5670\n" * (2 * MB // 14 + 1)
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    assert upload.json()["duplicate"] == upload.json()["rows"] - 1


async def test_callbacks_need_no_key_but_are_bounded(harness: Harness) -> None:
    async with _anonymous(harness) as anon:
        answer = await anon.post("/v1/callbacks/xoxzo/voice/1/token", content=b"x" * (2 * MB))
    assert answer.status_code == 413


async def _viewer(harness: Harness) -> httpx.AsyncClient:
    async with session_scope(harness.runtime.sessions) as session:
        key = await create_api_key(session, "read only", Scope.viewer)
    return httpx.AsyncClient(
        base_url=str(harness.api.base_url),
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


async def test_a_viewer_key_reads_but_every_change_in_the_api_is_403(harness: Harness) -> None:
    schema = (await harness.api.get("/openapi.json")).json()
    changes = [
        (method.upper(), re.sub(r"\{[^/]+\}", "1", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if needs_key(path) and method.upper() not in SAFE_METHODS
    ]
    assert len(changes) > 20
    body = {"to": "+818012345678", "message": "hello", "channel": "sms"}
    async with await _viewer(harness) as viewer:
        assert (await viewer.get("/v1/campaigns")).status_code == 200
        assert (await viewer.get("/v1/notifications")).status_code == 200
        for method, path in changes:
            answer = await viewer.request(method, path, json=body)
            assert (answer.status_code, answer.json()) == (403, {"detail": READ_ONLY}), path
    assert (await harness.api.get("/v1/notifications")).json() == []
