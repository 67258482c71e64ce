"""The polling fallback and reconciliation of attempts whose worker died around the POST."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.attempts.fence import TakenBack, mark_sent
from dialer.db import session_scope
from dialer.dispatch.claims import claim_for_dialing
from dialer.dispatch.service import dial_notification
from dialer.models import Attempt, utcnow
from dialer.serve import running_worker
from dialer.tracking.checks import check_attempt
from dialer.vocabulary import AttemptStatus
from tests.support import Harness


async def test_with_every_callback_lost_polling_still_finishes_each_call(harness: Harness) -> None:
    harness.sandbox.config.callback_drop_rate = 1.0
    numbers = ["+819012345670", "+819012345677", "+819012345679"]
    ids = [(await harness.notify(n))["id"] for n in numbers]
    async with running_worker(harness.settings, harness.redis_url):
        finals = [await harness.wait_final(i, within=30) for i in ids]
    assert [f["outcome"] for f in finals] == ["answered", "no_answer", "failed"]
    assert [f["attempts"][0]["provider_status"] for f in finals] == [
        "ANSWERED",
        "NO ANSWER",
        "FAILED",
    ]
    assert all(not call.callback_deliveries for call in harness.sandbox.calls.values())


async def _orphan_dialing_attempt(harness: Harness, *, cleared: bool = True) -> int:
    """The state a worker leaves when it dies after committing `dialing`, before any answer:
    `cleared`, after the fence (its request may have left), else before it."""
    body = await harness.notify("+819012345670")
    async with session_scope(harness.runtime.sessions) as session:
        claimed = await claim_for_dialing(session, body["id"], utcnow(), harness.settings)
        assert claimed is not None
        [attempt] = claimed[1]
        attempt_id = attempt.id
    assert attempt_id is not None
    if cleared:
        async with session_scope(harness.runtime.sessions) as session:
            await mark_sent(session, [attempt_id], utcnow(), 120.0)
    return attempt_id


async def _age(harness: Harness, attempt_id: int, seconds: float) -> None:
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        attempt.created_at = attempt.created_at - timedelta(seconds=seconds)


def _patient(harness: Harness) -> float:
    """A minute before a dialing attempt counts as its worker's loss (2 s elsewhere in the
    tests): the first check finds it young even on a machine that stalls for seconds."""
    harness.runtime.settings = harness.runtime.settings.model_copy(
        update={"ambiguous_after_s": 60.0, "reconcile_deadline_s": 600.0}
    )
    return 60.0


async def test_a_dialing_attempt_is_reconciled_then_closed_unknown_never_redialled(
    harness: Harness,
) -> None:
    patience = _patient(harness)
    attempt_id = await _orphan_dialing_attempt(harness)
    assert await check_attempt(harness.runtime, attempt_id) == "wait"
    await _age(harness, attempt_id, patience)
    assert await check_attempt(harness.runtime, attempt_id) == "reconcile"
    assert await check_attempt(harness.runtime, attempt_id) == "wait"
    await _age(harness, attempt_id, harness.runtime.settings.reconcile_deadline_s)
    assert await check_attempt(harness.runtime, attempt_id) == "gave up"
    assert await check_attempt(harness.runtime, attempt_id) == "already final"
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        notification_id = attempt.notification_id
    read = await harness.read(notification_id)
    assert read["status"] == "failed"
    assert read["outcome"] == "unknown"
    assert read["attempts"][0]["error"] == "no final status from the provider before the deadline"
    assert harness.sandbox.calls == {}


async def test_an_attempt_never_cleared_to_leave_is_taken_back_and_dialled_once(
    harness: Harness,
) -> None:
    patience = _patient(harness)
    attempt_id = await _orphan_dialing_attempt(harness, cleared=False)
    assert await check_attempt(harness.runtime, attempt_id) == "wait"
    await _age(harness, attempt_id, patience)
    assert await check_attempt(harness.runtime, attempt_id) == "took back 1"
    assert await check_attempt(harness.runtime, attempt_id) == "already final"
    with pytest.raises(TakenBack):
        # The job, had it lived, now finds its attempt taken back and sends nothing.
        async with session_scope(harness.runtime.sessions) as session:
            await mark_sent(session, [attempt_id], utcnow(), 120.0)
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        assert attempt.status is AttemptStatus.not_sent
        assert attempt.sent_at is None
        notification_id = attempt.notification_id
    read = await harness.read(notification_id)
    assert read["status"] == "queued"
    assert read["attempts_made"] == 0
    assert read["attempts"][0]["provider_status"] == "NeverSent"
    assert read["attempts"][0]["sent_at"] is None
    assert harness.sandbox.calls == {}
    async with running_worker(harness.settings, harness.redis_url):
        final = await harness.wait_final(notification_id, within=30)
    assert final["outcome"] == "answered"
    assert final["attempts_made"] == 1
    assert [a["status"] for a in final["attempts"]] == ["not_sent", "finished"]
    assert len(harness.sandbox.calls) == 1


async def test_an_attempt_cleared_to_leave_is_never_taken_back(harness: Harness) -> None:
    attempt_id = await _orphan_dialing_attempt(harness, cleared=True)
    await _age(harness, attempt_id, harness.settings.reconcile_deadline_s * 2)
    assert await check_attempt(harness.runtime, attempt_id) == "gave up"
    async with session_scope(harness.runtime.sessions) as session:
        attempt = await session.get(Attempt, attempt_id)
        assert attempt is not None
        assert attempt.outcome is not None and attempt.outcome.value == "unknown"


async def test_a_check_of_an_unknown_attempt_says_so(harness: Harness) -> None:
    assert await check_attempt(harness.runtime, 424242) == "no such attempt"


async def test_a_call_still_live_at_the_provider_is_asked_about_before_it_is_given_up(
    harness: Harness,
) -> None:
    harness.sandbox.config.time_scale = 1000.0  # rings for hours
    body = await harness.notify("+819012345670")
    assert await dial_notification(harness.runtime, body["id"]) == "placed"
    attempt_id = (await harness.read(body["id"]))["attempts"][0]["id"]
    assert await check_attempt(harness.runtime, attempt_id) == "progress"
    await _age(harness, attempt_id, harness.settings.reconcile_deadline_s)
    assert await check_attempt(harness.runtime, attempt_id) == "gave up"
    read = await harness.read(body["id"])
    assert read["outcome"] == "unknown"
    assert read["attempts"][0]["provider_status"] == "IN PROGRESS"
    assert (
        "not final at the provider before the deadline (progress)" in read["attempts"][0]["error"]
    )
