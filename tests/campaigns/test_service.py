"""An import's issues read a page at a time: every issue once, in order, across page boundaries,
with what the upload wrote through the spreadsheet guard."""

from __future__ import annotations

from sqlmodel import select

from dialer.campaigns.service import issue_pages
from dialer.db import SessionMaker, read_scope, session_scope
from dialer.models import ContactImport, ImportIssue
from dialer.spreadsheets import safe_cell
from tests.campaigns.test_result_pages import hostile_campaign

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "a,=b", "090-1234", None, "12"]


async def test_issue_pages_give_every_issue_once_in_order_and_guarded(
    sessions: SessionMaker,
) -> None:
    campaign_id = await hostile_campaign(sessions, 0)  # with one upload
    async with session_scope(sessions) as session:
        mine = (await session.exec(select(ContactImport.id))).one()
        second = ContactImport(campaign_id=campaign_id, filename="b.csv")
        session.add(second)
        await session.flush()
        other = second.id
        assert mine is not None and other is not None
        for i in range(11):
            phone = HOSTILE[i % len(HOSTILE)]
            session.add(ImportIssue(import_id=mine, row_number=i + 2, phone=phone, reason=f"={i}"))
            session.add(ImportIssue(import_id=other, row_number=i + 2, reason="not mine"))
    async with read_scope(sessions) as session:
        pages = [page async for page in issue_pages(session, mine, page=4)]
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [row for page in pages for row in page] == [
        [i + 2, safe_cell(HOSTILE[i % len(HOSTILE)] or ""), f"'={i}"] for i in range(11)
    ]
