"""A batch claimed in one transaction: a fixed handful of statements, and every rule of a claim
kept for each notification as if it were claimed alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from dialer.config import ProviderLimits
from dialer.db import session_scope
from dialer.dispatch.claims import claim_batch
from dialer.models import Notification, utcnow
from dialer.optouts.service import block_number
from dialer.vocabulary import NotificationStatus
from tests.support import Harness

N = NotificationStatus


@contextmanager
def _counting(harness: Harness) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = harness.runtime.engine.sync_engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def _notify(harness: Harness, count: int, first: int) -> list[int]:
    return [(await harness.notify(f"+8190{12340000 + first + n}"))["id"] for n in range(count)]


async def _claim(harness: Harness, ids: list[int]) -> tuple[set[int], list[str]]:
    with _counting(harness) as statements:
        async with session_scope(harness.runtime.sessions) as session:
            claimed = await claim_batch(session, ids, utcnow(), harness.settings, {})
    return set(claimed), statements


async def test_a_batch_of_any_size_is_claimed_in_the_same_few_statements(
    harness: Harness,
) -> None:
    small = await _notify(harness, 2, 10000)
    large = await _notify(harness, 40, 20000)
    claimed_small, few = await _claim(harness, small)
    claimed_large, many = await _claim(harness, large)
    assert claimed_small == set(small) and claimed_large == set(large)
    # Lock, lists, count, insert, update (and the transaction's own): not one per contact.
    # Except on SQLite, where SQLAlchemy inserts rows one by one when it needs their new ids in
    # order, which SQLite's multi-row INSERT does not promise.
    if harness.runtime.engine.dialect.name == "sqlite":
        many = [s for s in many if not s.startswith("INSERT INTO attempt")]
        few = [s for s in few if not s.startswith("INSERT INTO attempt")]
    assert len(many) == len(few) <= 8, "\n".join(s[:70] for s in many)
    again, _ = await _claim(harness, large)
    assert again == set()  # all `dialing` now: none is claimed twice


async def test_each_notification_of_a_batch_keeps_every_rule_of_its_own(harness: Harness) -> None:
    fine, blocked, expired, taken = await _notify(harness, 4, 30000)
    async with session_scope(harness.runtime.sessions) as session:
        await block_number(session, "+819012370001", source="test")
        late = await session.get(Notification, expired)
        assert late is not None
        late.expires_at = utcnow() - timedelta(seconds=1)
    first, _ = await _claim(harness, [taken])
    claimed, _ = await _claim(harness, [fine, blocked, expired, taken])
    assert first == {taken} and claimed == {fine}
    statuses = {i: (await harness.read(i))["status"] for i in (fine, blocked, expired, taken)}
    assert statuses == {
        fine: "dialing",
        blocked: "suppressed",
        expired: "expired",
        taken: "dialing",
    }


async def test_the_live_call_cap_counts_the_claims_made_earlier_in_the_batch(
    harness: Harness,
) -> None:
    harness.settings = harness.settings.model_copy(
        update={"provider_limits": {"xoxzo": ProviderLimits(calls=1000, live_calls=2)}}
    )
    ids = await _notify(harness, 5, 40000)
    claimed, _ = await _claim(harness, ids)
    assert claimed == set(ids[:2])
    for waiting in ids[2:]:
        read = await harness.read(waiting)
        assert read["status"] == "queued" and read["attempts_made"] == 0
