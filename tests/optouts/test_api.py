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


async def test_a_campaign_has_its_own_list_that_other_campaigns_ignore(harness: Harness) -> None:
    body = {"name": "own list", "channel": "sms", "from": "+81312345678", "template": "Hi"}
    first, second = [
        (await harness.api.post("/v1/campaigns", json=body)).json()["id"] for _ in range(2)
    ]
    path = f"/v1/campaigns/{first}/do-not-contact"
    added = await harness.api.post(path, json={"number": "090-1234-5671", "reason": "moved"})
    assert added.status_code == 201 and added.json()["number"] == "+819012345671"
    assert (await harness.api.post(path, json={"number": "+819012345671"})).status_code == 200
    assert [e["number"] for e in (await harness.api.get(path)).json()] == ["+819012345671"]
    assert (await harness.api.get(f"/v1/campaigns/{second}/do-not-contact")).json() == []
    assert (await harness.api.get("/v1/do-not-contact")).json() == []

    upload = {"contacts": [{"phone": "+819012345671"}, {"phone": "+819012345672"}]}
    imported = [
        (await harness.api.post(f"/v1/campaigns/{cid}/contacts/json", json=upload)).json()
        for cid in (first, second)
    ]
    assert [(i["imported"], i["suppressed"]) for i in imported] == [(1, 1), (2, 0)]

    assert (await harness.api.delete(f"{path}/%2B819012345671")).status_code == 204
    assert (await harness.api.delete(f"{path}/%2B819012345671")).status_code == 404


async def test_an_unknown_campaign_has_no_list(harness: Harness) -> None:
    path = "/v1/campaigns/999999/do-not-contact"
    assert (await harness.api.get(path)).status_code == 404
    assert (await harness.api.post(path, json={"number": "+819012345671"})).status_code == 404
    bad = await harness.api.post(path.replace("999999", "x"), json={"number": "+819012345671"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "campaign_id"]


NOTATIONS = ["090-1234-5678", "0901２３４５６７８", "＋８１ ９０ １２３４ ５６７８", "٠٩٠١٢٣٤٥٦٧٨"]


async def test_a_listed_number_is_suppressed_in_any_notation_both_ways(harness: Harness) -> None:
    for listed in NOTATIONS:
        added = await harness.api.post("/v1/do-not-contact", json={"number": listed})
        assert added.status_code == 201 and added.json()["number"] == "+819012345678"
        for written in NOTATIONS:
            assert (await harness.notify(written))["status"] == "suppressed", (listed, written)
        assert (await harness.api.delete("/v1/do-not-contact/%2B819012345678")).status_code == 204


async def test_a_listed_number_in_another_notation_is_suppressed_at_import(
    harness: Harness,
) -> None:
    await harness.api.post("/v1/do-not-contact", json={"number": "+819012345678"})
    created = await harness.api.post(
        "/v1/campaigns",
        json={"name": "x", "channel": "tts", "from": "+81312345678", "template": "hi {{ name }}"},
    )
    cid = created.json()["id"]
    rows = "phone,name\n" + "".join(f"{n},p\n" for n in NOTATIONS[1:]) + "090-1234-5600,q\n"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    body = upload.json()
    # The three notations are one number: suppressed once, then duplicates of it.
    assert (body["imported"], body["suppressed"], body["duplicate"]) == (1, 1, 2), body
