"""/v1/do-not-contact over HTTP: what is added there is never called or texted."""

from __future__ import annotations

from tests.support import Harness


async def test_add_list_and_remove_a_number(harness: Harness) -> None:
    added = await harness.api.post(
        "/v1/do-not-contact", json={"number": "090-1234-5670", "reason": "asked by phone"}
    )
    assert added.status_code == 201
    assert added.json()["number"] == "+819012345670" and added.json()["source"] == "api"
    again = await harness.api.post("/v1/do-not-contact", json={"number": "+819012345670"})
    assert again.status_code == 200 and again.json()["reason"] == "asked by phone"
    listed = (await harness.api.get("/v1/do-not-contact")).json()
    assert [e["number"] for e in listed] == ["+819012345670"]
    assert (await harness.notify("+819012345670"))["status"] == "suppressed"
    removed = await harness.api.delete("/v1/do-not-contact/%2B819012345670")
    assert removed.status_code == 204
    assert (await harness.notify("+819012345670"))["status"] == "queued"
    assert (await harness.api.delete("/v1/do-not-contact/%2B819012345670")).status_code == 404


async def test_a_bad_number_is_422_naming_the_field(harness: Harness) -> None:
    answer = await harness.api.post("/v1/do-not-contact", json={"number": "12"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "number"]
    assert "too short" in answer.json()["detail"][0]["msg"]


async def test_the_list_needs_an_api_key(harness: Harness) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anon:
        assert (await anon.get("/v1/do-not-contact")).status_code == 401
        assert (
            await anon.post("/v1/do-not-contact", json={"number": "+819012345670"})
        ).status_code == 401
