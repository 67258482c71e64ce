"""A hostile template fails alone: refused at creation when it fails whatever the contact, else
its contact is closed with the reason and its campaign paused, while the API answers on time
and every other campaign dials on."""

from __future__ import annotations

import asyncio
import time

import pytest

from dialer.dispatch.service import dial_notification
from tests.campaigns.test_dispatch import ALL_DAY, CAMPAIGN, _contacts
from tests.support import Harness


# What the template sandbox refuses is the same whatever the database: SQLite only.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


SPIN = (
    "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{ (name|length + 9)**(9**9) }}", "power beyond"),
        ("{{ 'a' * 10**8 }}", "repeated value"),
        (SPIN + "{{ name }}", "longer than its budget"),
        ("{{ name.__class__.__base__ }}", "unsafe"),
        ("{{ 'a'|center(900000000) }}{{ name }}", "more memory"),
    ],
)
async def test_a_template_that_fails_for_everyone_is_refused_at_creation(
    harness: Harness, template: str, words: str
) -> None:
    answer = await harness.api.post(
        "/v1/campaigns", json={**CAMPAIGN, "template": template, "schedule": ALL_DAY}
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["detail"]
    assert error["loc"] == ["body", "template"] and words in error["msg"]


async def test_a_fallback_template_is_probed_too(harness: Harness) -> None:
    policy = {**CAMPAIGN["policy"], "sms_fallback": {"template": "{{ 'a' * 10**8 }}"}}
    answer = await harness.api.post("/v1/campaigns", json={**CAMPAIGN, "policy": policy})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "policy", "sms_fallback", "template"]


async def bomb_campaign(harness: Harness) -> int:
    # Fine for the stand-in at creation; spins for the one contact whose name is "bomb".
    template = "{% if name == 'bomb' %}" + SPIN + "{% endif %}Hello {{ name }}"
    created = await harness.api.post(
        "/v1/campaigns", json={**CAMPAIGN, "template": template, "schedule": ALL_DAY}
    )
    assert created.status_code == 201, created.text
    cid: int = created.json()["id"]
    rows = "phone,name,parcel\n090-1234-5600,bomb,P\n090-1234-5601,Aiko,P\n"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert upload.status_code == 201, upload.text
    return cid


async def test_a_spinning_contact_is_closed_and_its_campaign_paused_while_the_api_answers(
    harness: Harness,
) -> None:
    cid = await bomb_campaign(harness)
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    bomb = (await _contacts(harness, cid))[0]
    assert bomb.id is not None

    dial = asyncio.create_task(dial_notification(harness.runtime, bomb.id))
    slowest = 0.0
    while not dial.done():
        began = time.monotonic()
        assert (await harness.api.get("/healthz")).status_code == 200
        slowest = max(slowest, time.monotonic() - began)
        await asyncio.sleep(0.02)
    assert await dial == "not due"

    # The budget is 2 s (twice: a render past it is tried again); the loop was never held.
    assert slowest < harness.settings.template_budget_s
    body = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    assert body["status"] == "paused" and "longer than its budget" in body["pause_reason"]
    assert "row 2" in body["pause_reason"]
    first, second = await _contacts(harness, cid)
    assert first.status == "failed" and "longer than its budget" in (first.last_error or "")
    assert second.status == "held"
    assert harness.sandbox.calls == {}


async def test_a_template_error_on_one_contacts_data_closes_that_contact_once(
    harness: Harness,
) -> None:
    # Fine for the stand-in at creation; divides by zero for a three-letter name.
    template = "{{ 100 // (name|length - 3) }} for {{ name }}"
    created = await harness.api.post(
        "/v1/campaigns", json={**CAMPAIGN, "template": template, "schedule": ALL_DAY}
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    rows = "phone,name,parcel\n090-1234-5600,Abc,P\n090-1234-5601,Aiko,P\n"
    await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", rows.encode(), "text/csv")}
    )
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    first, second = await _contacts(harness, cid)
    assert first.id is not None and second.id is not None
    assert await dial_notification(harness.runtime, first.id) == "not due"
    assert await dial_notification(harness.runtime, first.id) == "not due"
    assert await dial_notification(harness.runtime, second.id) == "placed"
    first, second = await _contacts(harness, cid)
    assert first.status == "failed" and "ZeroDivisionError" in (first.last_error or "")
    assert first.attempts_made == 0 and second.text == "100 for Aiko"
    assert (await harness.api.get(f"/v1/campaigns/{cid}")).json()["status"] == "running"
    assert len(harness.sandbox.calls) == 1
