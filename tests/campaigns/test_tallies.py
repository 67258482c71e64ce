"""A campaign's counts come from its tallies, kept as its contacts change (dialer.outbox, the
importer, start/pause/cancel): after every kind of change they equal a count of the contacts
themselves."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import col, func

from dialer.contacts.importer import import_contacts
from dialer.contacts.reader import CsvLayout
from dialer.models import CampaignTally, Notification
from dialer.serve import running_worker
from tests.support import Harness, wait_for

ALL_DAY = {"window_start": "00:00", "window_end": "23:59"}
Key = tuple[str, str, str]


async def _both(harness: Harness, campaign_id: int) -> tuple[Counter[Key], Counter[Key]]:
    """The tallies and a count of the contacts, read in one snapshot (one transaction at
    REPEATABLE READ on PostgreSQL; SQLite's read transactions are snapshots already)."""
    engine = harness.runtime.engine
    level = "REPEATABLE READ" if engine.dialect.name == "postgresql" else None
    async with engine.connect() as conn:
        if level:
            conn = await conn.execution_options(isolation_level=level)
        async with conn.begin():
            kept = await conn.execute(
                sa.select(
                    col(CampaignTally.status),
                    col(CampaignTally.outcome),
                    col(CampaignTally.answer),
                    col(CampaignTally.contacts),
                ).where(col(CampaignTally.campaign_id) == campaign_id)
            )
            tallied = Counter({(s, o, a): n for s, o, a, n in kept.all() if n})
            rows = await conn.execute(
                sa.select(
                    col(Notification.status),
                    col(Notification.outcome),
                    col(Notification.answer),
                    func.count(),
                )
                .where(col(Notification.campaign_id) == campaign_id)
                .group_by(
                    col(Notification.status), col(Notification.outcome), col(Notification.answer)
                )
            )
            counted = Counter({(str(s), str(o or ""), a or ""): n for s, o, a, n in rows.all()})
    return tallied, counted


async def _same(harness: Harness, campaign_id: int) -> Counter[Key]:
    tallied, counted = await _both(harness, campaign_id)
    assert tallied == counted
    return counted


async def test_tallies_follow_every_change_of_a_campaign(harness: Harness) -> None:
    await harness.api.post("/v1/do-not-contact", json={"number": "+819012340009"})
    body = {
        "name": "tallies",
        "channel": "tts",
        "from": "+81312345678",
        "template": "Hello {{ name }}",
        "lang": "en",
        "schedule": ALL_DAY,
        "policy": {"max_attempts": 2, "retry": {"no_answer": {"delay_s": 0}}, "max_rate": 5},
    }
    campaign_id = (await harness.api.post("/v1/campaigns", json=body)).json()["id"]
    # Answered (0-6), not answered then retried (7), busy (8), blocked (9), and a duplicate.
    numbers = [f"+8190123400{i:02d}" for i in range(40)] + ["+819012340009", "+819012340001"]
    contacts = [{"phone": n, "variables": {"name": f"P{i}"}} for i, n in enumerate(numbers)]
    await harness.api.post(
        f"/v1/campaigns/{campaign_id}/contacts/json", json={"contacts": contacts}
    )
    assert (await _same(harness, campaign_id))[("suppressed", "", "")] == 1
    await harness.api.post(f"/v1/campaigns/{campaign_id}/start")
    await _same(harness, campaign_id)
    async with running_worker(harness.settings, harness.redis_url):

        async def some_ended() -> bool:
            counted = await _same(harness, campaign_id)
            return sum(n for (s, _, _), n in counted.items() if s in ("delivered", "failed")) >= 5

        await wait_for(some_ended, 30, "five contacts ended")
        await harness.api.post(f"/v1/campaigns/{campaign_id}/pause", json={"reason": "check"})
        await _same(harness, campaign_id)
        await harness.api.post(f"/v1/campaigns/{campaign_id}/resume")

        async def more_ended() -> bool:
            counted = await _same(harness, campaign_id)
            return sum(n for (s, _, _), n in counted.items() if s in ("delivered", "failed")) >= 15

        await wait_for(more_ended, 30, "fifteen contacts ended")
        await harness.api.post(f"/v1/campaigns/{campaign_id}/cancel")
    counted = await _same(harness, campaign_id)
    assert sum(counted.values()) == 40
    shown = (await harness.api.get(f"/v1/campaigns/{campaign_id}")).json()["counts"]
    assert sum(shown.values()) == 40


class _Meanwhile(io.BytesIO):
    """A CSV that, once the import is past its start, lets another import take some of its
    numbers: the first import's later batches then conflict with rows it never saw."""

    def __init__(self, data: bytes, at: int, meanwhile: Callable[[], object]) -> None:
        super().__init__(data)
        self.at, self.meanwhile, self.done = at, meanwhile, False

    def _maybe(self) -> None:
        if not self.done and self.tell() > self.at:
            self.done = True
            self.meanwhile()

    def read(self, size: int | None = -1) -> bytes:
        self._maybe()
        return super().read(size)

    def read1(self, size: int = -1) -> bytes:
        self._maybe()
        return super().read1(size)


async def test_numbers_another_import_takes_meanwhile_are_counted_once(
    harness: Harness,
) -> None:
    body = {"name": "meanwhile", "channel": "tts", "from": "+81312345678", "template": "hi"}
    campaign_id = (await harness.api.post("/v1/campaigns", json=body)).json()["id"]
    numbers = [f"+8190{20_000_000 + i:08d}" for i in range(20_000)]
    engine = harness.runtime.sync_engine

    def other() -> None:
        taken = "phone\n" + "".join(f"{n}\n" for n in numbers[-100:])
        import_contacts(engine, campaign_id, io.BytesIO(taken.encode()))

    text = ("phone\n" + "".join(f"{n}\n" for n in numbers)).encode()
    stream = _Meanwhile(text, len(text) // 2, other)
    report = await asyncio.to_thread(
        import_contacts, engine, campaign_id, stream, CsvLayout(), batch_size=500
    )
    assert stream.done
    assert (report.imported, report.duplicate) == (19_900, 100)
    assert await _same(harness, campaign_id) == Counter({("held", "", ""): 20_000})


async def test_answers_per_question_follow_every_change_of_a_contact(harness: Harness) -> None:
    from dialer.db import session_scope
    from dialer.models import CampaignAnswer
    from dialer.vocabulary import Channel

    async def answers_of(campaign_id: int) -> dict[tuple[str, str], int]:
        async with harness.runtime.engine.connect() as conn:
            kept = await conn.execute(
                sa.select(
                    col(CampaignAnswer.question),
                    col(CampaignAnswer.label),
                    col(CampaignAnswer.contacts),
                ).where(col(CampaignAnswer.campaign_id) == campaign_id)
            )
            return {(q, label): n for q, label, n in kept.all() if n}

    changes: list[dict[str, str] | None] = [
        {"confirm": "confirmed"},
        {"confirm": "reschedule", "time": "2"},
        {"time": "3"},
        None,
        {"confirm": "confirmed"},
    ]
    async with session_scope(harness.runtime.sessions) as session:
        contacts = [
            Notification(
                campaign_id=77,
                provider="voxology",
                channel=Channel.voice_flow,
                to_number=f"+1415555010{i}",
                from_number="+14155550100",
            )
            for i in range(3)
        ]
        session.add_all(contacts)
    for step, answers in enumerate(changes):
        async with session_scope(harness.runtime.sessions) as session:
            for i, contact in enumerate(contacts):
                row = await session.get(Notification, contact.id)
                assert row is not None
                # Each contact a step behind the one before: several answers move at once.
                row.answers = changes[(step + i) % len(changes)] if i else answers
        expected: Counter[tuple[str, str]] = Counter()
        async with session_scope(harness.runtime.sessions) as session:
            for contact in contacts:
                row = await session.get(Notification, contact.id)
                assert row is not None
                expected.update((row.answers or {}).items())
        assert await answers_of(77) == dict(expected)
