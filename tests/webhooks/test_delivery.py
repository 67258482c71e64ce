"""Client webhooks end to end: events written as calls end, signed, sent by the worker, retried
while the receiver is down, given up after a day, re-sent by API; a hanging receiver holds up
no dialling. And a tick's choice of events: a batch's work whatever the backlog, and nothing
behind the events another worker is leasing."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from dialer import __version__
from dialer.db import SessionMaker, session_scope
from dialer.models import WebhookEndpoint, WebhookEvent, utcnow
from dialer.serve import running_worker
from dialer.vocabulary import EventKind, EventStatus
from dialer.webhooks.delivery import deliver_due, lease_due
from tests.support import Harness, sqlite_steps, wait_for
from tests.webhooks.receiver import Receiver, readme_verify

RETRY_ONCE = {"max_attempts": 2, "retry_delay_s": 1}


async def _register(harness: Harness, url: str) -> dict[str, Any]:
    answer = await harness.api.post("/v1/webhooks", json={"url": url})
    assert answer.status_code == 201, answer.text
    again = await harness.api.post("/v1/webhooks", json={"url": url})
    assert again.status_code == 200 and again.json()["secret"] == answer.json()["secret"]
    endpoint: dict[str, Any] = answer.json()
    return endpoint


async def _events(harness: Harness, endpoint_id: int, status: str = "") -> list[dict[str, Any]]:
    query = f"?status={status}" if status else ""
    answer = await harness.api.get(f"/v1/webhooks/{endpoint_id}/events{query}")
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()
    return events


async def test_each_attempt_and_the_end_are_reported_signed(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    endpoint = await _register(harness, url)
    # Not answered (last digit 7), then rung once more.
    notification = await harness.notify("+819012345677", webhook_url=url, policy=RETRY_ONCE)
    async with running_worker(harness.settings, harness.redis_url):
        await harness.wait_final(notification["id"])

        async def all_three() -> bool:
            return len(got.taken) >= 3

        await wait_for(all_three, 20, "three events at the receiver")
    assert got.kinds() == ["attempt.finished", "attempt.finished", "notification.final"]
    verify = readme_verify()
    assert all(verify(endpoint["secret"], r.signature, r.body) for r in got.taken)
    assert len({r.event_id for r in got.taken}) == 3
    assert {r.user_agent for r in got.taken} == {f"dialer/{__version__} (webhooks)"}
    bodies = {r.kind: json.loads(r.body) for r in got.taken}
    final = bodies["notification.final"]["notification"]
    assert (final["id"], final["status"], final["outcome"], final["attempts"]) == (
        notification["id"],
        "failed",
        "no_answer",
        2,
    )
    attempt = bodies["attempt.finished"]["attempt"]
    assert attempt["outcome"] == "no_answer" and attempt["provider_id"]
    logged = await _events(harness, endpoint["id"], "delivered")
    assert len(logged) == 3 and all(e["tries"] == 1 for e in logged)


async def test_an_unregistered_webhook_url_is_refused_naming_the_field(harness: Harness) -> None:
    body = {"channel": "tts", "to": "+819012345670", "from": "+81312345678", "text": "Hi"}
    body |= {"lang": "en", "webhook_url": "https://example.com/not-registered"}
    answer = await harness.api.post("/v1/notifications", json=body)
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert detail["loc"] == ["body", "webhook_url"] and "POST /v1/webhooks" in detail["msg"]


async def test_a_campaign_reports_its_contacts_and_its_end(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    await _register(harness, url)
    body = {
        "name": "with a webhook",
        "channel": "tts",
        "from": "+81312345678",
        "template": "Hello {{ name }}",
        "lang": "en",
        "schedule": {"window_start": "00:00:00", "window_end": "23:59:59"},
        "policy": {"max_attempts": 1},
        "webhook_url": url,
    }
    cid = (await harness.api.post("/v1/campaigns", json=body)).json()["id"]
    csv = b"phone,name\n090-1234-5670,A\n090-1234-5679,B\n"
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", csv, "text/csv")}
    )
    assert upload.status_code == 201
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def finished() -> bool:
            return "campaign.finished" in got.kinds()

        await wait_for(finished, 30, "the campaign.finished event")
        await wait_for(lambda: _count_at_least(got, 5), 10, "every event")
    assert got.kinds() == [
        "attempt.finished",
        "attempt.finished",
        "campaign.finished",
        "notification.final",
        "notification.final",
    ]
    campaign = next(json.loads(r.body) for r in got.taken if r.kind == "campaign.finished")
    assert campaign["campaign"]["status"] == "completed"
    assert campaign["campaign"]["counts"] == {"delivered": 1, "failed": 1}
    assert_in_order(got)


def assert_in_order(got: Receiver) -> None:
    """Each notification's attempts arrive before its final, and the campaign's end last."""
    arrived = [(r.kind, json.loads(r.body)) for r in got.taken]
    assert arrived[-1][0] == "campaign.finished"
    finals: set[int] = set()
    for kind, body in arrived:
        if kind == "notification.final":
            finals.add(body["notification"]["id"])
        elif kind == "attempt.finished":
            assert body["notification"]["id"] not in finals, "an attempt after its final"


async def test_a_canceled_campaign_reports_its_end_after_its_last_call(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    await _register(harness, url)
    body = {
        "name": "canceled with calls ringing",
        "channel": "tts",
        "from": "+81312345678",
        "template": "Hello {{ name }}",
        "lang": "en",
        "schedule": {"window_start": "00:00:00", "window_end": "23:59:59"},
        # Two calls a second: at the cancel, some ring and most are still to dial.
        "policy": {"max_attempts": 1, "max_rate": 2},
        "webhook_url": url,
    }
    cid = (await harness.api.post("/v1/campaigns", json=body)).json()["id"]
    csv = "phone,name\n" + "".join(f"090-1234-56{n:02d},P{n}\n" for n in range(40))
    upload = await harness.api.post(
        f"/v1/campaigns/{cid}/contacts", files={"file": ("c.csv", csv.encode(), "text/csv")}
    )
    assert upload.status_code == 201
    harness.sandbox.config.time_scale = 0.1  # calls ring for a few seconds
    assert (await harness.api.post(f"/v1/campaigns/{cid}/start")).status_code == 200
    async with running_worker(harness.settings, harness.redis_url):

        async def ringing() -> bool:
            counts = (await harness.api.get(f"/v1/campaigns/{cid}")).json()["counts"]
            return counts.get("in_progress", 0) + counts.get("dialing", 0) >= 2

        await wait_for(ringing, 30, "calls in progress")
        assert (await harness.api.post(f"/v1/campaigns/{cid}/cancel")).status_code == 200

        async def finished() -> bool:
            return "campaign.finished" in got.kinds()

        await wait_for(finished, 60, "the campaign.finished event")
        now = (await harness.api.get(f"/v1/campaigns/{cid}")).json()
    [end] = [json.loads(r.body)["campaign"] for r in got.taken if r.kind == "campaign.finished"]
    assert end["status"] == "canceled"
    assert "queued" not in end["counts"] and "in_progress" not in end["counts"]
    assert end["counts"] == now["counts"] and end["outcomes"] == now["outcomes"]
    assert end["counts"].get("canceled", 0) > 0 and end["progress"] == 1.0
    # Every call under way at the cancel finished first, and reported it. (A contact its dial
    # job found canceled is reported on its own too; the rest are in campaign.finished.)
    finals = [json.loads(r.body) for r in got.taken if r.kind == "notification.final"]
    called = [f for f in finals if f["notification"]["status"] != "canceled"]
    assert len(called) == sum(n for s, n in now["counts"].items() if s != "canceled")
    assert_in_order(got)


async def _count_at_least(got: Receiver, n: int) -> bool:
    return len(got.taken) >= n


async def test_a_receiver_down_for_an_hour_gets_every_event_once_back(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    got.down = True
    endpoint = await _register(harness, url)
    ids = [(await harness.notify(f"+81901234567{d}", webhook_url=url))["id"] for d in "012"]
    async with running_worker(harness.settings, harness.redis_url):
        for notification_id in ids:
            await harness.wait_final(notification_id)

        async def first_tried() -> bool:
            events = await _events(harness, endpoint["id"])
            return len(events) == 6 and any(e["tries"] >= 1 for e in events)

        await wait_for(first_tried, 20, "a first try at the first of six events")
    events = sorted(await _events(harness, endpoint["id"]), key=lambda e: e["id"])
    # The ones written after it wait behind it, untried: they arrive in order or not at all.
    assert [e["tries"] >= 1 for e in events] == [True] + [False] * 5
    assert got.taken == [] and got.refused >= 1
    # Still down half an hour on; up again after an hour.
    assert (await deliver_due(harness.runtime, utcnow() + timedelta(minutes=30)))["retry"] == 1
    got.down = False
    later = utcnow() + timedelta(minutes=61)
    assert await deliver_due(harness.runtime, later) == {"delivered": 6, "retry": 0, "failed": 0}
    assert await deliver_due(harness.runtime, later + timedelta(hours=1)) == {}
    assert len(got.taken) == 6 and len({r.event_id for r in got.taken}) == 6
    assert [int(r.event_id) for r in got.taken] == [e["id"] for e in events]
    log = (await harness.api.get(f"/v1/webhook-events/{got.taken[0].event_id}")).json()
    statuses = [d["status_code"] for d in log["deliveries"]]
    assert statuses[-1] == 204 and set(statuses[:-1]) == {503} and len(statuses) >= 3
    assert log["status"] == "delivered" and log["next_try_at"] is None


async def test_tries_stop_after_a_day_and_a_resend_starts_them_again(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    got.down = True
    endpoint = await _register(harness, url)
    notification = await harness.notify("+819012345670", webhook_url=url)
    async with running_worker(harness.settings, harness.redis_url):
        await harness.wait_final(notification["id"])

        async def two_events() -> bool:
            return len(await _events(harness, endpoint["id"])) == 2

        await wait_for(two_events, 10, "two events written")
    day_on = utcnow() + timedelta(hours=24, minutes=1)
    # The first gives up; the one behind it, a day old too, gets its one try and gives up.
    assert (await deliver_due(harness.runtime, day_on))["failed"] == 1
    assert (await deliver_due(harness.runtime, day_on))["failed"] == 1
    failed = await _events(harness, endpoint["id"], "failed")
    assert len(failed) == 2 and await deliver_due(harness.runtime, day_on) == {}
    got.down = False
    resent = await harness.api.post(f"/v1/webhook-events/{failed[0]['id']}/resend")
    assert resent.status_code == 202 and resent.json()["status"] == "pending"
    assert (await deliver_due(harness.runtime, utcnow()))["delivered"] == 1
    assert [r.event_id for r in got.taken] == [str(failed[0]["id"])]


async def test_a_hanging_receiver_holds_up_no_dialling(
    harness: Harness, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    got.hang = asyncio.Event()
    await _register(harness, url)
    async with running_worker(harness.settings, harness.redis_url):
        first = await harness.notify("+819012345670", webhook_url=url)
        await harness.wait_final(first["id"])
        # Its events are now being sent to a receiver that does not answer (for 10 s, the
        # timeout); dialling goes on meanwhile.
        later = [(await harness.notify(f"+81901234567{d}", webhook_url=url))["id"] for d in "12"]
        for notification_id in later:
            await harness.wait_final(notification_id, within=8)
        got.hang.set()


async def _backlog(
    sessions: SessionMaker, url: str, due: int, waiting_head: bool = True
) -> tuple[int, list[int]]:
    """An endpoint with `due` events, the first of them waiting for its next try (a receiver
    that is down) unless told otherwise; its id and its events' ids."""
    now = utcnow()
    async with session_scope(sessions) as session:
        endpoint = WebhookEndpoint(url=url, secret="s" * 32)
        session.add(endpoint)
        await session.flush()
        assert endpoint.id is not None
        rows = [
            {
                "endpoint_id": endpoint.id,
                "kind": EventKind.attempt_finished,
                "body": "{}",
                "status": EventStatus.pending,
                "tries": 0,
                "next_try_at": now - timedelta(seconds=5),
                "give_up_at": now + timedelta(days=1),
                "created_at": now,
            }
            for _ in range(due)
        ]
        if waiting_head:
            rows[0] |= {"tries": 1, "next_try_at": now + timedelta(seconds=10)}
        await (await session.connection()).execute(sa.insert(WebhookEvent), rows)
        ids = await session.exec(
            select(WebhookEvent.id)
            .where(col(WebhookEvent.endpoint_id) == endpoint.id)
            .order_by(col(WebhookEvent.id))
        )
        return endpoint.id, [i for i in ids.all() if i is not None]


async def _leased_counting_steps(sessions: SessionMaker) -> tuple[list[int], int]:
    """What a tick would lease (rolled back after), and its SQLite VM steps in thousands."""
    async with sessions() as session, session.begin():
        due, steps = await sqlite_steps(session, lambda: lease_due(session, utcnow()))
        await session.rollback()
    return [d.event_id for d in due], steps


async def test_a_tick_reads_a_batch_not_a_down_receivers_whole_backlog(
    sqlite_sessions: SessionMaker,
) -> None:
    # SQLite's VM steps are the measure of the work.
    sessions = sqlite_sessions
    _, healthy = await _backlog(sessions, "https://up.example.com/hook", 3, waiting_head=False)
    # A receiver that is down (its first event waits, the rest behind it) and one that is up
    # but behind (all due).
    await _backlog(sessions, "https://down.example.com/hook", 300)
    _, behind = await _backlog(sessions, "https://behind.example.com/hook", 300, False)
    leased_small, small = await _leased_counting_steps(sessions)
    await _backlog(sessions, "https://down2.example.com/hook", 5000)
    await _backlog(sessions, "https://behind2.example.com/hook", 5000, waiting_head=False)
    leased_big, big = await _leased_counting_steps(sessions)
    # The oldest due, nothing behind a waiting event, each endpoint's in order.
    assert leased_small == leased_big == healthy + behind[:47]
    # 17 times the backlogs: the reading grew with them before, quadratically (about 7 s for
    # 4,500 events in a chaos run, inside the write transaction every writer waits for).
    assert big <= 2 * small + 5, (small, big)


async def test_no_worker_takes_the_events_behind_those_another_is_leasing(
    sessions: SessionMaker,
) -> None:
    _, ids = await _backlog(sessions, "https://slow.example.com/hook", 70, waiting_head=False)
    async with session_scope(sessions) as first:
        leased = [d.event_id for d in await lease_due(first, utcnow())]

        async def second_tick() -> list[int]:
            async with session_scope(sessions) as second:
                return [d.event_id for d in await lease_due(second, utcnow())]

        # On PostgreSQL the second tick runs now, beside the first's open transaction; on
        # SQLite it waits for the first's commit.
        second = asyncio.create_task(second_tick())
        await asyncio.sleep(0.5)
    assert leased == ids[:50]
    # Events 51 to 70 would be sent before 1 to 50 if it took them: it takes none.
    assert await asyncio.wait_for(second, 30) == []
