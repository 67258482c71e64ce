"""Reminders: an offset before an appointment in the person's own time zone, kept to the
calling window, fired by the (controllable) clock, listed, rescheduled and canceled until
dialled; nothing due while the service was down is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialer import clock
from dialer.models import utcnow
from dialer.scheduling.policies import RetryPolicy
from dialer.scheduling.timing import parse_offset, plan_send
from dialer.serve import running_worker
from tests.support import Harness, wait_for

TOKYO = ZoneInfo("Asia/Tokyo")
PERSON = "+819012345670"  # a Japanese mobile: its zone is Asia/Tokyo
BODY: dict[str, Any] = {
    "channel": "tts",
    "to": PERSON,
    "from": "+81312345678",
    "text": "A reminder of your appointment.",
    "lang": "en",
}
# 09:00 in Tokyo on 2026-11-25.
MORNING = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("2h", 7200), ("90m", 5400), ("1d", 86400), ("1h30m", 5400)],
)
def test_offsets_read_as_durations(text: str, seconds: int) -> None:
    assert parse_offset(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "2", "h", "2 hours", "-2h", "2h-", "1.5h"])
def test_anything_else_is_not_an_offset(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_offset(text)


def test_a_time_outside_the_window_moves_to_its_opening_or_expires() -> None:
    window = RetryPolicy(window_start=time(9), window_end=time(20))
    night = datetime(2026, 11, 26, 3, 0, tzinfo=TOKYO)
    moved = plan_send(night, window, (TOKYO,))
    assert moved.due_at == datetime(2026, 11, 26, 9, 0, tzinfo=TOKYO) and moved.expired is None
    strict = window.model_copy(update={"outside_window": "expire"})
    assert plan_send(night, strict, (TOKYO,)).expired == (
        "03:00 Asia/Tokyo is outside the calling window 09:00-20:00"
    )
    deadline = datetime(2026, 11, 26, 5, 0, tzinfo=TOKYO)
    late = plan_send(night, window, (TOKYO,), deadline)
    assert late.expired is not None and late.expired.endswith("and it opens too late")
    noon = datetime(2026, 11, 26, 12, 0, tzinfo=TOKYO)
    assert plan_send(noon, window, (TOKYO,)) == plan_send(noon, RetryPolicy(), (TOKYO,))


@pytest.fixture
def clock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The dialer's clock, for this process, moved to 09:00 Tokyo time on 2026-11-25."""
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(path))
    set_clock(path, MORNING)
    yield path


def set_clock(path: Path, moment: datetime) -> None:
    clock.set_offset(path, (moment - datetime.now(UTC)).total_seconds())


async def _remind(harness: Harness, **fields: Any) -> list[dict[str, Any]]:
    answer = await harness.api.post("/v1/reminders", json={**BODY, **fields})
    assert answer.status_code == 202, answer.text
    reminders: list[dict[str, Any]] = answer.json()
    return reminders


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_two_hours_before_a_tokyo_appointment_it_fires_at_that_instant(
    harness: Harness, clock_file: Path
) -> None:
    # Noon in Tokyo, written as the person's local time.
    [reminder] = await _remind(harness, appointment_at="2026-11-25T12:00:00", remind_before=["2h"])
    due = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
    assert _at(reminder["due_at"]) == due and reminder["status"] == "queued"
    assert _at(reminder["expires_at"]) == datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    async with running_worker(harness.settings, harness.redis_url):
        set_clock(clock_file, due - timedelta(seconds=2))
        # The hopper ticks every second: two ticks before the instant, nothing is dialled.
        await wait_for(lambda: _later_than(due - timedelta(seconds=0.5)), 10, "the clock")
        assert harness.sandbox.calls == {}
        body = await harness.wait_final(reminder["id"], within=20)
    [attempt] = body["attempts"]
    assert due <= _at(attempt["created_at"]) < due + timedelta(seconds=5)
    assert body["status"] == "delivered"


async def _later_than(moment: datetime) -> bool:
    return utcnow() >= moment


async def test_a_reminder_at_three_in_the_morning_moves_or_expires_as_asked(
    harness: Harness, clock_file: Path
) -> None:
    # 7 hours before 10:00 is 03:00 in Tokyo: outside 09:00-20:00.
    fields = {"appointment_at": "2026-11-26T10:00:00", "remind_before": ["7h"]}
    [moved] = await _remind(harness, **fields)
    assert moved["status"] == "queued"
    assert _at(moved["due_at"]) == datetime(2026, 11, 26, 9, 0, tzinfo=TOKYO)
    [expired] = await _remind(harness, **fields, policy={"outside_window": "expire"})
    assert expired["status"] == "expired"
    assert expired["last_error"] == "03:00 Asia/Tokyo is outside the calling window 09:00-20:00"
    # 2 hours before 05:00: the window opens only after the appointment.
    [late] = await _remind(harness, appointment_at="2026-11-26T05:00:00", remind_before=["2h"])
    assert late["status"] == "expired" and late["last_error"].endswith("opens too late")
    # An offset whose time has already passed is answered for, expired.
    soon = await _remind(harness, appointment_at="2026-11-25T12:00:00", remind_before=["1d", "1h"])
    assert [r["status"] for r in soon] == ["expired", "queued"]
    assert soon[0]["last_error"] == "its time, 1d before the appointment, had passed"


async def test_reminders_are_listed_rescheduled_and_canceled_until_dialled(
    harness: Harness, clock_file: Path
) -> None:
    made = await _remind(harness, appointment_at="2026-11-27T15:00:00", remind_before=["1d", "2h"])
    listed = (await harness.api.get(f"/v1/notifications?status=queued&to={PERSON}")).json()
    assert [n["id"] for n in listed] == [r["id"] for r in made]
    moved = await harness.api.patch(
        f"/v1/notifications/{made[0]['id']}", json={"send_at": "2026-11-26T16:30:00"}
    )
    assert moved.status_code == 200, moved.text
    assert _at(moved.json()["due_at"]) == datetime(2026, 11, 26, 16, 30, tzinfo=TOKYO)
    # Past the appointment (its expiry) it would never go: refused, the send time kept.
    after = await harness.api.patch(
        f"/v1/notifications/{made[1]['id']}", json={"send_at": "2026-11-27T15:30:00"}
    )
    assert after.status_code == 422 and after.json()["detail"][0]["loc"] == ["body", "send_at"]
    assert "expires" in after.json()["detail"][0]["msg"]
    assert (await harness.read(made[1]["id"]))["due_at"] == made[1]["due_at"]
    assert (await harness.api.post(f"/v1/notifications/{made[0]['id']}/cancel")).status_code == 200
    again = await harness.api.patch(
        f"/v1/notifications/{made[0]['id']}", json={"send_at": "2026-11-26T17:00:00"}
    )
    assert again.status_code == 409
    left = (await harness.api.get("/v1/notifications?status=queued")).json()
    assert [n["id"] for n in left] == [made[1]["id"]]


async def test_a_reminder_due_while_the_service_was_down_goes_when_it_is_back(
    harness: Harness, clock_file: Path
) -> None:
    [still] = await _remind(harness, appointment_at="2026-11-25T13:00:00", remind_before=["2h"])
    [too_late] = await _remind(
        harness, to="+819012345671", appointment_at="2026-11-25T11:00:00", remind_before=["1h"]
    )
    # No worker until 12:30 in Tokyo: one appointment is still ahead, the other is past.
    set_clock(clock_file, datetime(2026, 11, 25, 3, 30, tzinfo=UTC))
    async with running_worker(harness.settings, harness.redis_url):
        sent = await harness.wait_final(still["id"], within=20)
        skipped = await harness.wait_final(too_late["id"], within=20)
    assert sent["status"] == "delivered" and len(sent["attempts"]) == 1
    assert skipped["status"] == "expired" and skipped["attempts"] == []
    assert skipped["last_error"] == "expired before it could be dialled"
