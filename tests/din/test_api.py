"""DINs through the REST API and the sandbox, and the action server answering inbound calls."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dialer.din.actions import parse_action
from dialer.dispatch.service import dial_notification
from tests.support import Harness


# The DIN API goes to Xoxzo (the sandbox) and keeps a few rows: SQLite only.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


DIN_UID = "JPascfdrwersdf12"  # +81312345678, the harness's default caller ID
CALLER = "+819012345670"


async def _subscribe(harness: Harness, action: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"din_uid": DIN_UID}
    if action is not None:
        body["action"] = action
    answer = await harness.api.post("/v1/dins", json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def _call_in(harness: Harness, caller: str = CALLER) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=harness.sandbox_url) as sandbox:
        answer = await sandbox.post(
            "/_sandbox/inbound", json={"din": "+81312345678", "caller": caller}
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_search_filters_by_country_and_prefix(harness: Harness) -> None:
    japan = (await harness.api.get("/v1/dins/available", params={"country": "JP"})).json()
    tokyo = (await harness.api.get("/v1/dins/available", params={"prefix": "813"})).json()
    assert {d["number"][:3] for d in japan} == {"+81"}
    assert {d["number"] for d in tokyo} == {"+81312345678", "+81398765432"}
    bad = await harness.api.get("/v1/dins/available", params={"country": "Japan"})
    assert bad.status_code == 422


async def test_subscribing_points_the_din_at_our_action_server(harness: Harness) -> None:
    din = await _subscribe(harness, 'say en "Thanks for calling ACME."')
    assert din["number"] == "+81312345678" and din["monthly_cost"] == 1900
    sandbox_din = harness.sandbox.dins[DIN_UID]
    assert sandbox_din.subscribed
    assert sandbox_din.action_url is not None
    assert sandbox_din.action_url.startswith(f"{harness.settings.public_url}/v1/din/action/")
    listed = (await harness.api.get("/v1/dins")).json()
    assert [d["din_uid"] for d in listed] == [DIN_UID]
    search = (await harness.api.get("/v1/dins/available", params={"prefix": "813"})).json()
    assert DIN_UID not in {d["din_uid"] for d in search}


async def test_an_unknown_caller_hears_the_dins_action_in_the_documented_grammar(
    harness: Harness,
) -> None:
    await _subscribe(harness, 'say en "Thanks for calling ACME."')
    call = await _call_in(harness)
    assert call == {
        "status_code": 200,
        "answer": 'say en "Thanks for calling ACME."',
        "valid": True,
    }


async def test_without_an_action_the_service_default_answers(harness: Harness) -> None:
    await _subscribe(harness)
    call = await _call_in(harness)
    assert call["valid"] and call["answer"] == harness.settings.din_default_action


async def test_a_caller_we_called_from_the_din_hears_our_last_message_again(
    harness: Harness,
) -> None:
    await _subscribe(harness, 'say en "Thanks for calling ACME."')
    first = await harness.notify(CALLER, text="Old news.")
    await dial_notification(harness.runtime, first["id"])
    latest = await harness.notify(CALLER, text='Your parcel "A-12" arrives at 3 pm.', lang="en")
    await dial_notification(harness.runtime, latest["id"])
    await harness.notify(CALLER, text="Not dialled yet, so not replayed.")
    call = await _call_in(harness)
    assert call["valid"], call
    assert call["answer"] == "say en \"Your parcel 'A-12' arrives at 3 pm.\""
    someone_else = await _call_in(harness, "+819012345671")
    assert someone_else["answer"] == 'say en "Thanks for calling ACME."'


async def test_a_playback_notification_is_replayed_as_a_playback(harness: Harness) -> None:
    await _subscribe(harness)
    body = await harness.notify(
        CALLER,
        channel="playback",
        text=None,
        lang=None,
        recording_url="http://example.com/notice.mp3",
    )
    await dial_notification(harness.runtime, body["id"])
    assert (await _call_in(harness))["answer"] == "playback http://example.com/notice.mp3"


async def test_actions_are_checked_against_the_grammar(harness: Harness) -> None:
    await _subscribe(harness)
    bad = await harness.api.put(f"/v1/dins/{DIN_UID}/action", json={"action": 'say fr "Salut"'})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "action"]
    good = await harness.api.put(
        f"/v1/dins/{DIN_UID}/action", json={"action": "transfer +81807181881 --caller=+81312345678"}
    )
    assert good.json()["action"] == "transfer +81807181881 --caller=+81312345678"
    assert parse_action((await _call_in(harness))["answer"]).line() == good.json()["action"]
    missing = await harness.api.put("/v1/dins/NOPE/action", json={"action": None})
    assert missing.status_code == 404


async def test_the_action_server_needs_the_dins_own_token(harness: Harness) -> None:
    await _subscribe(harness)
    async with httpx.AsyncClient(base_url=str(harness.api.base_url)) as xoxzo:
        forged = await xoxzo.get(f"/v1/din/action/{DIN_UID}/{'0' * 40}", params={"caller": CALLER})
    assert forged.status_code == 403


async def test_unsubscribing_releases_the_din(harness: Harness) -> None:
    await _subscribe(harness)
    gone = await harness.api.delete(f"/v1/dins/{DIN_UID}")
    assert gone.status_code == 200 and gone.json()["unsubscribed_at"] is not None
    assert not harness.sandbox.dins[DIN_UID].subscribed
    assert (await harness.api.get("/v1/dins")).json() == []
    assert (await harness.api.delete(f"/v1/dins/{DIN_UID}")).status_code == 404


async def test_provider_refusals_are_surfaced(harness: Harness) -> None:
    unknown = await harness.api.post("/v1/dins", json={"din_uid": "JPdoesnotexist00"})
    assert unknown.status_code == 422
    assert "Invalid din_uid" in unknown.json()["detail"][0]["msg"]
    harness.sandbox.config.balance = 100
    poor = await harness.api.post("/v1/dins", json={"din_uid": DIN_UID})
    assert poor.status_code == 402 and "Not enough credits" in poor.json()["detail"]
