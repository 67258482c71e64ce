"""Before any handler reads a body: the API's caller is authenticated and the body's size is
bounded, so an anonymous or oversized request costs the service next to nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support import Harness

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
