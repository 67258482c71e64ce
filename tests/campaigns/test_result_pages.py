"""results.csv read a page at a time from plain rows says exactly what the contacts and their
attempts say, read one object at a time: every contact once, in order, across page boundaries,
with its attempts' cost, last provider answer and last transfer, and every cell that came from
outside through the spreadsheet guard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from dialer.campaigns.results import Results
from dialer.db import read_scope, session_scope
from dialer.models import Attempt, Campaign, ContactImport, Notification, utcnow
from dialer.spreadsheets import safe_cell
from dialer.vocabulary import Channel, NotificationStatus, Outcome

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "a,=b", "plain", "", "12", "ok;-x"]


async def hostile_campaign(sessions: Any, contacts: int) -> int:
    """Contacts with 0 to 3 attempts each: costs or none, a transfer on some, and hostile text
    wherever the outside world writes."""
    now = utcnow()
    async with session_scope(sessions) as session:
        campaign = Campaign(
            name="pages", provider="xoxzo", channel=Channel.tts, from_number="+81312345678"
        )
        session.add(campaign)
        await session.flush()
        assert campaign.id is not None
        upload = ContactImport(
            campaign_id=campaign.id, filename="c.csv", columns=[["name", "name"], ["memo", "m"]]
        )
        session.add(upload)
        await session.flush()
        for i in range(contacts):
            hostile = HOSTILE[i % len(HOSTILE)]
            contact = Notification(
                campaign_id=campaign.id,
                import_id=upload.id,
                row_number=i + 2,
                provider="xoxzo",
                channel=Channel.tts,
                to_number=f"+8190{10000000 + i}",
                from_number="+81312345678",
                variables={"name": f"n{i}", "m": hostile} if i % 4 else {"name": hostile},
                status=NotificationStatus.failed if i % 3 else NotificationStatus.queued,
                outcome=Outcome.no_answer if i % 3 else None,
                answer=hostile or None,
                answers={"confirm": hostile} if i % 2 else None,
                attempts_made=i % 4,
                last_error=hostile or None,
                finished_at=now if i % 3 else None,
            )
            session.add(contact)
            await session.flush()
            assert contact.id is not None
            for number in range(1, i % 4 + 1):
                session.add(
                    Attempt(
                        notification_id=contact.id,
                        campaign_id=campaign.id,
                        number=number,
                        provider="xoxzo",
                        provider_id=f"{hostile}{contact.id}-{number}" if number % 2 else None,
                        provider_status=hostile[:60] or None,
                        cost=None if number == 2 else 1.23456 * number,
                        transferred_to=f"+8190000000{number}" if i % 5 == number else None,
                        transfer_s=7 * number if i % 5 == number else None,
                        created_at=now + timedelta(seconds=number),
                    )
                )
        return campaign.id


async def _by_objects(sessions: Any, campaign_id: int, results: Results) -> list[list[Any]]:
    """The oracle: each contact and its attempts as ORM objects, as results.csv once read them."""
    rows: list[list[Any]] = []
    async with read_scope(sessions) as session:
        contacts = await session.exec(
            select(Notification)
            .where(col(Notification.campaign_id) == campaign_id)
            .order_by(col(Notification.id))
        )
        for c in contacts.all():
            tried = list(
                (
                    await session.exec(
                        select(Attempt)
                        .where(col(Attempt.notification_id) == c.id)
                        .order_by(col(Attempt.number))
                    )
                ).all()
            )
            last = tried[-1] if tried else None
            costs = [a.cost for a in tried if a.cost is not None]
            moved = [a for a in tried if a.transferred_to is not None][-1:]
            variables = c.variables or {}
            rows.append(
                [
                    c.import_id,
                    c.row_number,
                    variables.get("name", ""),
                    variables.get("m", ""),
                    c.to_number,
                    c.status.value,
                    c.outcome.value if c.outcome else "",
                    c.answer or "",
                    c.attempts_made,
                    round(sum(costs), 4) if costs else "",
                    c.created_at,
                    c.finished_at or "",
                    c.last_error or "",
                    (last.provider_id or "") if last else "",
                    (last.provider_status or "") if last else "",
                    moved[0].transferred_to if moved else "",
                    moved[0].transfer_s if moved else "",
                    *(
                        [(c.answers or {}).get(q, "") for q in ["confirm"]]
                        if results.header[-1] == "confirm"
                        else []
                    ),
                ]
            )
    return [[safe_cell(v) for v in row] for row in rows]


def _comparable(row: list[Any]) -> list[Any]:
    """Timestamps as instants: the stored text and an aware datetime say the same; and None
    as "": the CSV writer writes both as an empty cell."""
    from datetime import datetime

    out: list[Any] = []
    for value in row:
        if value is None:
            value = ""
        if isinstance(value, str) and value.endswith("+00:00") and "T" in value:
            value = datetime.fromisoformat(value)
        out.append(value)
    return out


@pytest.mark.parametrize("transfers", [True, False])
async def test_pages_say_what_the_objects_say(sessions: Any, transfers: bool) -> None:
    campaign_id = await hostile_campaign(sessions, 23)
    async with read_scope(sessions) as session:
        upload = (await session.exec(select(ContactImport))).one()
        results = Results([upload], ["confirm"], transfers=transfers)
        pages = [page async for page in results.pages(session, campaign_id, page=4)]
    assert [len(p) for p in pages] == [4, 4, 4, 4, 4, 3]
    got = [_comparable(row) for page in pages for row in page]
    expected = [_comparable(row) for row in await _by_objects(sessions, campaign_id, results)]
    if not transfers:  # a script that cannot transfer: the columns stay empty
        expected = [[*row[:15], "", "", *row[17:]] for row in expected]
    assert got == expected
    assert any(row[15] for row in got) is transfers
    # Guarded where the outside world wrote: the upload, the person, the provider.
    assert {row[3] for row in got} >= {"'=cmd|' /C calc'!A0", "'+1+1", "a,'=b"}
    assert "'@SUM(A1)" in {row[12] for row in got}


async def test_an_export_stopped_early_leaves_no_read_in_flight(sessions: Any) -> None:
    campaign_id = await hostile_campaign(sessions, 12)
    async with read_scope(sessions) as session:
        upload = (await session.exec(select(ContactImport))).one()
        reader = Results([upload]).pages(session, campaign_id, page=3)
        first = await reader.__anext__()
        await reader.aclose()  # the client went away after one page
        assert len(first) == 3
        # The session is still usable: nothing of the abandoned read is left on it.
        again = [page async for page in Results([upload]).pages(session, campaign_id, page=5)]
    assert sum(len(p) for p in again) == 12
