"""/v1/notifications over HTTP against the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support import SQLITE_ONLY, Harness

VALID = {
    "channel": "tts",
    "to": "090-1234-5670",
    "from": "+81312345678",
    "text": "Hi",
    "lang": "en",
}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer dk_000000000000_wrongsecret"},
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_without_a_valid_key_it_is_401(harness: Harness, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url), headers=headers) as anon:
        created = await anon.post("/v1/notifications", json=VALID)
        read = await anon.get("/v1/notifications/1")
    assert created.status_code == 401
    assert read.status_code == 401
    assert created.headers["WWW-Authenticate"] == "Bearer"


async def test_created_notification_is_queued_with_a_normalised_number(harness: Harness) -> None:
    body = await harness.notify("090-1234-5670")
    assert body["status"] == "queued"
    assert body["to"] == "+819012345670"
    assert body["from"] == "+81312345678"
    assert body["outcome"] is None
    assert body["attempts"] == []
    assert body["policy"]["max_attempts"] == 1
    assert (await harness.read(body["id"]))["id"] == body["id"]


def _errors(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 422, answer.text
    detail: list[dict[str, Any]] = answer.json()["detail"]
    return detail


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"to": None}, "to", "Field required"),
        ({"to": 5}, "to", "valid string"),
        ({"channel": "fax"}, "channel", "Input should be 'tts'"),
        ({"lang": "fr"}, "lang", "'ja' or 'en'"),
        ({"text": None}, None, "text is required for channel tts"),
        ({"recording_url": "http://example.com/a.mp3"}, None, "recording_url is for channel"),
        (
            {"channel": "playback", "text": None, "recording_url": "https://example.com/a.mp3"},
            None,
            "only http://",
        ),
        ({"policy": {"max_attempts": 0}}, "max_attempts", "greater than or equal to 1"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
        ({"expires_at": "2030-01-01T00:00:00"}, None, "time zone"),
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_a_bad_body_is_422_naming_the_field(
    harness: Harness, change: dict[str, Any], field: str | None, words: str
) -> None:
    body = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    errors = _errors(await harness.api.post("/v1/notifications", json=body))
    assert any(words in e["msg"] for e in errors), errors
    if field is not None:
        assert any(e["loc"][-1] == field for e in errors), errors


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("to", "12", "too short"),
        ("to", "+999 1234567", "unknown country code"),
        ("from", "hello", "not a phone number"),
    ],
)
@SQLITE_ONLY  # a refusal before any row is written
async def test_an_invalid_phone_number_is_422_with_the_reason(
    harness: Harness, field: str, value: str, reason: str
) -> None:
    errors = _errors(await harness.api.post("/v1/notifications", json={**VALID, field: value}))
    assert errors[0]["loc"] == ["body", field]
    assert reason in errors[0]["msg"]


async def test_malformed_json_is_422(harness: Harness) -> None:
    answer = await harness.api.post(
        "/v1/notifications", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422


async def test_unknown_id_is_404(harness: Harness) -> None:
    assert (await harness.api.get("/v1/notifications/999999")).status_code == 404
    assert (await harness.api.post("/v1/notifications/999999/cancel")).status_code == 404


async def test_the_same_idempotency_key_returns_the_same_notification(harness: Harness) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await harness.api.post("/v1/notifications", json=VALID, headers=headers)
    again = await harness.api.post("/v1/notifications", json=VALID, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await harness.api.post(
        "/v1/notifications", json=VALID, headers={"Idempotency-Key": "order-43"}
    )
    assert other.json()["id"] != first.json()["id"]


async def test_an_idempotency_key_reused_for_another_request_is_409(harness: Harness) -> None:
    headers = {"Idempotency-Key": "order-44"}
    await harness.api.post("/v1/notifications", json=VALID, headers=headers)
    clash = await harness.api.post(
        "/v1/notifications", json={**VALID, "text": "Other"}, headers=headers
    )
    assert clash.status_code == 409
    assert "different request" in clash.json()["detail"]


async def test_a_queued_notification_can_be_canceled_once(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    canceled = await harness.api.post(f"/v1/notifications/{body['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert canceled.json()["finished_at"] is not None
    again = await harness.api.post(f"/v1/notifications/{body['id']}/cancel")
    assert again.status_code == 409


async def test_creating_enqueues_one_dial_job(harness: Harness) -> None:
    body = await harness.notify("+819012345670")
    assert await harness.runtime.redis.exists(f"arq:job:dial:{body['id']}") == 1
    assert await harness.runtime.redis.zcard("arq:queue") == 1


async def test_healthz_needs_no_key(harness: Harness) -> None:
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as anon:
        answer = await anon.get("/healthz")
    assert answer.json() == {"status": "ok"}


async def test_creations_that_arrive_together_are_made_together_each_answered_alone(
    harness: Harness,
) -> None:
    """Twenty at once: fewer transactions than requests; a refused one (an unregistered
    webhook URL, a reused Idempotency-Key) refuses only itself and writes nothing."""
    writes = harness.web_app.state.runtime.writes
    groups_before, writes_before = writes.groups, writes.writes
    bodies: list[dict[str, Any]] = [{**VALID, "to": f"+8190123456{i:02d}"} for i in range(18)]
    bodies.append({**VALID, "webhook_url": "https://hooks.example.com/nowhere"})
    keyed = {"Idempotency-Key": "order-77"}
    await harness.api.post("/v1/notifications", json=VALID, headers=keyed)
    answers = await asyncio.gather(
        *(harness.api.post("/v1/notifications", json=b) for b in bodies),
        harness.api.post("/v1/notifications", json={**VALID, "text": "Other"}, headers=keyed),
    )
    codes = [a.status_code for a in answers]
    assert codes == [202] * 18 + [422, 409]
    assert [e["loc"][-1] for e in _errors(answers[18])] == ["webhook_url"]
    made = [a.json() for a in answers[:18]]
    assert len({m["id"] for m in made}) == 18
    assert {m["to"] for m in made} == {b["to"] for b in bodies[:18]}
    assert all(m["status"] == "queued" and m["attempts"] == [] for m in made)
    # Each of the 21 made by the process's writer, in fewer transactions than requests.
    assert writes.writes - writes_before == 1 + len(answers)
    assert writes.groups - groups_before < 1 + len(answers)
    listed = await harness.api.get("/v1/notifications", params={"limit": 1000})
    assert len(listed.json()) == 19
    for m in made:
        assert (await harness.read(m["id"]))["created_at"] == m["created_at"]
