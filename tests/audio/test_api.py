"""The audio library through the API: an MP3 uploaded, listed, served to the providers at a URL
each accepts, played by a Xoxzo playback campaign and a Voxology script; a text file renamed .mp3
refused; an audio in use by a campaign that can still dial kept."""

from __future__ import annotations

from typing import Any

import httpx

from dialer.serve import running_worker
from tests.audio.mp3s import mp3_bytes
from tests.support import SQLITE_ONLY, Harness, wait_for

ALL_DAY = {"window_start": "00:00", "window_end": "23:59"}


async def _upload(
    harness: Harness, data: bytes, filename: str = "お知らせ 1.mp3"
) -> httpx.Response:
    return await harness.api.post(
        "/v1/audio", files={"file": (filename, data, "audio/mpeg")}, data={"name": "reminder"}
    )


@SQLITE_ONLY  # files and rules; the in-use query runs on both below
async def test_an_mp3_is_kept_listed_and_served(harness: Harness) -> None:
    data = mp3_bytes(3.0)
    made = await _upload(harness, data)
    assert made.status_code == 201, made.text
    audio = made.json()
    assert (audio["name"], audio["filename"], audio["size_bytes"]) == (
        "reminder",
        "お知らせ 1.mp3",
        len(data),
    )
    assert 2.9 < audio["duration_s"] < 3.1
    xoxzo = audio["urls"]["xoxzo"]
    assert xoxzo.startswith(f"{harness.settings.public_url}/audio/{audio['id']}/reminder-")
    # Xoxzo's rule: letters, digits, _, - and / in the path (and its .mp3).
    assert all(c.isalnum() or c in "_-/." for c in httpx.URL(xoxzo).path)
    async with httpx.AsyncClient() as anyone:  # the providers fetch it without a key
        served = await anyone.get(xoxzo)
        assert served.status_code == 200 and served.content == data
        assert served.headers["content-type"] == "audio/mpeg"
        guessed = await anyone.get(
            f"{harness.settings.public_url}/audio/{audio['id']}/reminder.mp3"
        )
        assert guessed.status_code == 404
    listed = await harness.api.get("/v1/audio")
    assert [a["id"] for a in listed.json()] == [audio["id"]]
    assert (await harness.api.delete(f"/v1/audio/{audio['id']}")).status_code == 204
    assert (await harness.api.get(f"/v1/audio/{audio['id']}")).status_code == 404
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(xoxzo)).status_code == 404


@SQLITE_ONLY  # files and rules; the in-use query runs on both below
async def test_what_is_not_an_mp3_is_refused(harness: Harness) -> None:
    text = b"Dear patient, your appointment is tomorrow.\n" * 100
    refused = await _upload(harness, text, "notice.mp3")
    assert refused.status_code == 422 and "not an MP3 file" in refused.text
    harness.settings.audio_max_bytes = 2048
    big = await _upload(harness, mp3_bytes(1.0))
    assert big.status_code == 422 and "over 2048 bytes" in big.text
    assert (await harness.api.get("/v1/audio")).json() == []
    assert list(harness.settings.audio_dir.iterdir()) == []  # nothing left behind


async def test_a_xoxzo_playback_campaign_plays_an_uploaded_mp3(harness: Harness) -> None:
    harness.sandbox.config.fetch_recordings = True
    audio = (await _upload(harness, mp3_bytes(2.0))).json()
    body = {
        "name": "playback",
        "channel": "playback",
        "from": "+81312345678",
        "audio_id": audio["id"],
        "schedule": ALL_DAY,
        "policy": {"max_attempts": 1},
    }
    created = await harness.api.post("/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["recording_url"] == audio["urls"]["xoxzo"]
    cid = campaign["id"]
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts",
        files={"file": ("c.csv", b"phone\n+819012340001\n", "text/csv")},
    )
    assert upload.status_code == 201, upload.text
    # In use by a campaign that can still dial: kept.
    kept = await harness.api.delete(f"/v1/audio/{audio['id']}")
    assert kept.status_code == 409 and f"{cid} (playback)" in kept.text
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def done() -> dict[str, Any] | None:
            read: dict[str, Any] = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
            return read if read["status"] == "completed" else None

        finished = await wait_for(done, 60, "the campaign to complete")
    assert finished["outcomes"] == {"answered": 1}
    [call] = harness.sandbox.calls.values()
    assert call.recording_url == audio["urls"]["xoxzo"] and call.played_bytes == audio["size_bytes"]
    assert (await harness.api.post(f"/v1/campaigns/{cid}/cancel")).status_code == 409
    assert (await harness.api.delete(f"/v1/audio/{audio['id']}")).status_code == 204


@SQLITE_ONLY  # files and rules; the in-use query runs on both below
async def test_a_missing_audio_is_refused_and_a_script_plays_one(harness: Harness) -> None:
    body = {"channel": "playback", "to": "+819012340001", "from": "+81312345678", "audio_id": 999}
    missing = await harness.api.post("/v1/notifications", json=body)
    assert missing.status_code == 422 and "no audio 999" in missing.text
    audio = (await _upload(harness, mp3_bytes(1.0))).json()
    script = {
        "start": "a",
        "steps": {"a": {"audio_id": audio["id"], "next": "b"}, "b": {"hangup": True}},
    }
    made = await harness.notify(
        "+14155550113",
        text=None,
        channel="voice_flow",
        provider="voxology",
        script=script,
        **{"from": "+14155550100"},
    )
    assert made["script"]["steps"]["a"] == {"play": audio["urls"]["voxology"], "next": "b"}
