"""The fence between an attempt written and its request sent, for the requests of a
conference: legs that never left are taken back together, and a leg whose fellows may be
ringing fails rather than ring again alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from dialer.attempts.fence import TakenBack, mark_sent, take_back
from dialer.db import session_scope
from dialer.dispatch.claims import claim_for_dialing
from dialer.dispatch.service import dial_notification
from dialer.models import Attempt, Notification, utcnow
from dialer.pacing.service import account_limit
from dialer.tracking.checks import check_attempt
from dialer.vocabulary import AttemptStatus, NotificationStatus
from tests.support import Harness, wait_for

CONFERENCE: dict[str, Any] = {"channel": "conference", "text": None, "lang": "en"}
PEOPLE = ["+819012345670", "+819012345671", "+819012345672"]


async def _claimed_conference(harness: Harness, **fields: Any) -> tuple[int, list[int]]:
    body = await harness.notify(PEOPLE[0], **CONFERENCE, participants=PEOPLE[1:], **fields)
    async with session_scope(harness.runtime.sessions) as session:
        claimed = await claim_for_dialing(session, body["id"], utcnow(), harness.settings)
        assert claimed is not None
        legs = [a.id for a in claimed[1] if a.id is not None]
    assert len(legs) == 3
    return body["id"], legs


async def _take_back(harness: Harness, notification_id: int) -> tuple[int, list[Attempt]]:
    async with session_scope(harness.runtime.sessions) as session:
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        taken = await take_back(session, notification, utcnow(), 1.0)
    async with session_scope(harness.runtime.sessions) as session:
        legs = (
            await session.exec(
                select(Attempt)
                .where(Attempt.notification_id == notification_id)
                .order_by(col(Attempt.number))
            )
        ).all()
    return taken, list(legs)


async def test_a_conference_never_sent_is_taken_back_whole_and_waits_its_turn(
    harness: Harness,
) -> None:
    notification_id, legs = await _claimed_conference(harness)
    taken, attempts = await _take_back(harness, notification_id)
    assert taken == 3
    assert [a.status for a in attempts] == [AttemptStatus.not_sent] * 3
    read = await harness.read(notification_id)
    assert (read["status"], read["attempts_made"]) == ("queued", 0)
    with pytest.raises(TakenBack):
        async with session_scope(harness.runtime.sessions) as session:
            await mark_sent(session, legs, utcnow(), 120.0)


async def test_a_leg_left_behind_by_a_conference_already_ringing_fails_alone(
    harness: Harness,
) -> None:
    notification_id, legs = await _claimed_conference(
        harness, provider="voxology", **{"from": "+14155550100"}
    )
    async with session_scope(harness.runtime.sessions) as session:
        await mark_sent(session, legs[:1], utcnow(), 120.0)
        # The first is ringing; its worker died before the others were cleared to leave.
        ringing = await session.get(Attempt, legs[0])
        assert ringing is not None
        ringing.status = AttemptStatus.in_progress
    taken, attempts = await _take_back(harness, notification_id)
    assert taken == 2
    assert attempts[0].status is AttemptStatus.in_progress
    for leg in attempts[1:]:
        assert leg.status is AttemptStatus.finished
        assert leg.outcome is not None and leg.outcome.value == "failed"
        assert leg.error is not None and "not sent" in leg.error
    async with session_scope(harness.runtime.sessions) as session:
        notification = await session.get(Notification, notification_id)
        assert notification is not None
        assert notification.status is NotificationStatus.dialing
        assert notification.attempts_made == 1


async def test_a_request_is_cleared_whole_or_not_at_all(harness: Harness) -> None:
    """The one request of a Xoxzo conference clears all its legs or none."""
    notification_id, legs = await _claimed_conference(harness)
    async with session_scope(harness.runtime.sessions) as session:
        await mark_sent(session, legs[:1], utcnow(), 120.0)
    with pytest.raises(TakenBack):
        async with session_scope(harness.runtime.sessions) as session:
            await mark_sent(session, legs, utcnow(), 120.0)
    _, attempts = await _take_back(harness, notification_id)
    # The two that the failed clearance touched were rolled back, and so taken back now.
    assert [a.sent_at is not None for a in attempts] == [True, False, False]


async def test_a_dial_whose_attempt_is_taken_back_while_it_waits_sends_nothing(
    harness: Harness,
) -> None:
    # The provider asked for a pause: the dial claims its contact, then waits for its slot
    # (6 s, within the dial's longest wait, so that a slow machine still takes it back first:
    # 3 s was not enough once, in a full run).
    harness.runtime.settings = harness.settings.model_copy(update={"pacing_max_wait_s": 8.0})
    limit = account_limit(harness.settings, "xoxzo", "calls")
    await harness.runtime.limiter.throttled(limit, retry_after_s=6.0)
    body = await harness.notify("+819012345670")
    dial = asyncio.create_task(dial_notification(harness.runtime, body["id"]))

    async def claimed() -> int | None:
        attempts = (await harness.read(body["id"]))["attempts"]
        return attempts[0]["id"] if attempts else None

    attempt_id = await wait_for(claimed, 6, "the claim")
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        attempt.created_at -= timedelta(seconds=harness.settings.ambiguous_after_s)
    # The sweeper, believing its worker dead, takes it back before the slot comes.
    assert await check_attempt(harness.runtime, attempt_id) == "took back 1"
    assert await dial == "taken back"
    assert harness.sandbox.calls == {}
    read = await harness.read(body["id"])
    assert (read["status"], read["attempts_made"]) == ("queued", 0)
    assert [a["status"] for a in read["attempts"]] == ["not_sent"]
