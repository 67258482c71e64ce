"""Every id, instant and duration the API takes is bounded: a clear 422, never a 500."""

from __future__ import annotations

import pytest

from dialer.bounds import MAX_ID
from tests.support import Harness


# Refusals and bounds at the door, the same whatever the database: SQLite only.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


TOO_BIG = [MAX_ID + 1, 2**64, 10**30]


@pytest.mark.parametrize("big", TOO_BIG)
async def test_an_id_beyond_the_columns_range_is_a_422(harness: Harness, big: int) -> None:
    for method, path in [
        ("GET", f"/v1/notifications/{big}"),
        ("POST", f"/v1/notifications/{big}/cancel"),
        ("GET", f"/v1/campaigns/{big}"),
        ("POST", f"/v1/campaigns/{big}/start"),
        ("GET", f"/v1/campaigns/{big}/results.csv"),
        ("GET", f"/v1/campaigns/1/imports/{big}/issues.csv"),
        ("GET", f"/v1/campaigns/{big}/do-not-contact"),
        ("GET", f"/v1/webhooks/{big}"),
        ("GET", f"/v1/webhook-events/{big}"),
        ("GET", f"/v1/notifications?after={big}"),
    ]:
        answer = await harness.api.request(method, path)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)


async def test_the_largest_id_is_simply_not_found(harness: Harness) -> None:
    answer = await harness.api.get(f"/v1/notifications/{MAX_ID}")
    assert answer.status_code == 404


async def _refused(harness: Harness, path: str, fields: dict[str, object]) -> None:
    body = {"channel": "tts", "to": "+819012345670", "from": "+81312345678", "text": "hi"}
    answer = await harness.api.post(path, json={**body, **fields})
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize(
    "fields",
    [
        {"send_at": "0001-01-01T00:00:00+09:00"},
        {"send_at": "0001-01-01T00:00:00"},
        {"send_at": "9999-12-31T23:59:59-09:00"},
        {"expires_at": "0001-01-01T00:30:00+14:00"},
        {"expires_at": "9999-12-31T23:59:59Z"},
        {"policy": {"window_start": "09:00+09:00", "window_end": "20:00+09:00"}},
    ],
)
async def test_an_instant_or_time_of_day_out_of_range_is_a_422(
    harness: Harness, fields: dict[str, object]
) -> None:
    await _refused(harness, "/v1/notifications", fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"appointment_at": "0001-01-01T00:00:00", "remind_before": ["1h"]},
        {"appointment_at": "9999-12-31T23:00:00+09:00", "remind_before": ["1h"]},
        {"appointment_at": "2030-01-01T10:00:00+09:00", "remind_before": ["99999999999999999999h"]},
        {"appointment_at": "2030-01-01T10:00:00+09:00", "remind_before": ["400d"]},
        {"appointment_at": "2030-01-01T10:00:00+09:00", "remind_before": ["\uff11h"]},
    ],
)
async def test_a_reminder_out_of_range_is_a_422(
    harness: Harness, fields: dict[str, object]
) -> None:
    await _refused(harness, "/v1/reminders", fields)


async def test_moving_a_notification_to_the_ends_of_time_is_a_422(harness: Harness) -> None:
    body = await harness.notify("+819012345670", send_at="2099-01-01T09:00:00+09:00")
    for moment in ("0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"):
        answer = await harness.api.patch(
            f"/v1/notifications/{body['id']}", json={"send_at": moment}
        )
        assert answer.status_code == 422, answer.text
