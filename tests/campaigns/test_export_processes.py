"""results.csv and issues.csv made by export processes are the files the web process makes, byte
for byte: every row once, in id order, whatever the ranges and however many processes; a process
that fails fails the download; a download stopped early leaves no process behind."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlmodel import select

from dialer.campaigns import downloads
from dialer.campaigns.export_processes import (
    can_part,
    id_span,
    issue_span,
    issues_spec,
    parted_csv,
    results_spec,
)
from dialer.campaigns.results import Results, campaign_results
from dialer.campaigns.service import issue_pages
from dialer.config import to_driver_url
from dialer.db import SessionMaker, read_scope, session_scope
from dialer.models import ContactImport, ImportIssue
from tests.campaigns.test_result_pages import hostile_campaign
from tests.support import SQLITE_ONLY, Harness, our_children


async def _in_process(sessions: SessionMaker, results: Results, campaign_id: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    async with read_scope(sessions) as session:
        async for page in results.pages(session, campaign_id, page=4):
            writer.writerows(page)
    return buffer.getvalue().encode()


async def _parted(
    sessions: SessionMaker,
    database_url: str,
    results: Results,
    campaign_id: int,
    span: tuple[int, int],
    **how: int,
) -> bytes:
    dialect = sessions.kw["bind"].dialect
    url = to_driver_url(database_url, asynchronous=False)
    chunks = parted_csv(results_spec(results, campaign_id, dialect, url), span, **how)
    return b"".join([chunk async for chunk in chunks])


async def _results(sessions: SessionMaker, campaign_id: int) -> Results:
    async with read_scope(sessions) as session:
        upload = (await session.exec(select(ContactImport))).first()
        assert upload is not None
        return Results([upload], ["confirm"], transfers=True)


@pytest.mark.parametrize(("processes", "width"), [(2, 4), (3, 1), (1, 100), (2, 5000)])
async def test_processes_make_the_file_the_web_process_makes(
    sessions: SessionMaker, database_url: str, processes: int, width: int
) -> None:
    campaign_id = await hostile_campaign(sessions, 23)
    results = await _results(sessions, campaign_id)
    async with read_scope(sessions) as session:
        span = await id_span(session, campaign_id)
    assert span is not None
    made = await _parted(
        sessions, database_url, results, campaign_id, span, processes=processes, width=width
    )
    expected = await _in_process(sessions, results, campaign_id)
    assert made == expected
    assert len(list(csv.reader(io.StringIO(made.decode())))) == 23


async def test_ranges_holding_other_campaigns_contacts_add_nothing(
    sessions: SessionMaker, database_url: str
) -> None:
    campaign_id = await hostile_campaign(sessions, 9)
    results = await _results(sessions, campaign_id)
    other = await hostile_campaign(sessions, 12)
    async with read_scope(sessions) as session:
        span = await id_span(session, campaign_id)
        beyond = await id_span(session, other)
    assert span is not None and beyond is not None
    wide = (span[0], beyond[1])  # ranges past its last contact, over the other's: empty
    made = await _parted(sessions, database_url, results, campaign_id, wide, width=3)
    assert made == await _in_process(sessions, results, campaign_id)


@SQLITE_ONLY
async def test_a_failed_process_fails_the_download(sessions: SessionMaker, tmp_path: Path) -> None:
    campaign_id = await hostile_campaign(sessions, 6)
    results = await _results(sessions, campaign_id)
    missing = f"sqlite:///{tmp_path / 'gone' / 'dialer.db'}"
    with pytest.raises(RuntimeError, match="an export process ended with 1"):
        await _parted(sessions, missing, results, campaign_id, (1, 6), width=2)


def _export_processes() -> list[int]:
    return our_children("dialer.campaigns.export_part")


async def test_a_download_stopped_early_leaves_no_process(
    sessions: SessionMaker, database_url: str
) -> None:
    campaign_id = await hostile_campaign(sessions, 12)
    results = await _results(sessions, campaign_id)
    dialect = sessions.kw["bind"].dialect
    url = to_driver_url(database_url, asynchronous=False)
    # Ranges of one id over a span far past the campaign: seconds of work for each process.
    span = (1, 200_000)
    chunks = parted_csv(results_spec(results, campaign_id, dialect, url), span, width=1)
    first = await chunks.__anext__()
    assert first.count(b"\r\n") == 1
    assert len(_export_processes()) == 2  # still at work
    await chunks.aclose()  # the client went away
    assert _export_processes() == []


async def test_the_route_gives_the_same_file_either_way(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id = await hostile_campaign(harness.runtime.sessions, 23)
    async with read_scope(harness.runtime.sessions) as session:
        assert (await campaign_results(session, campaign_id)).header[2:4] == ["name", "memo"]
    made = await _both_ways(harness, monkeypatch, f"/v1/campaigns/{campaign_id}/results.csv")
    assert made.startswith("\ufeffimport_id,row,name,memo,phone".encode())
    assert made.count(b"\r\n") == 24


async def _both_ways(harness: Harness, monkeypatch: pytest.MonkeyPatch, path: str) -> bytes:
    """The download at `path` made in the web process, then by export processes: the same."""
    in_process = await harness.api.get(f"{path}?bom=1")
    monkeypatch.setattr(downloads, "PARTED_FROM", 0)
    parted = await harness.api.get(f"{path}?bom=1")
    assert in_process.status_code == parted.status_code == 200
    assert parted.content == in_process.content
    return parted.content


HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "a,=b", "090-1234", None, 'é\r\n"x']


async def _two_imports(sessions: SessionMaker, issues: int) -> tuple[int, int, int]:
    """A campaign with two uploads whose issues interleave; (campaign, first, second)."""
    campaign_id = await hostile_campaign(sessions, 0)
    async with session_scope(sessions) as session:
        mine = (await session.exec(select(ContactImport.id))).one()
        second = ContactImport(campaign_id=campaign_id, filename="b.csv")
        session.add(second)
        await session.flush()
        assert mine is not None and second.id is not None
        for i in range(issues):
            phone = HOSTILE[i % len(HOSTILE)]
            reason = f"{HOSTILE[(i + 3) % len(HOSTILE)] or ''} {i}"
            session.add(ImportIssue(import_id=mine, row_number=i + 2, phone=phone, reason=reason))
            session.add(ImportIssue(import_id=second.id, row_number=i + 2, reason="not mine"))
        return campaign_id, mine, second.id


@pytest.mark.parametrize(("processes", "width"), [(2, 3), (1, 100), (3, 1)])
async def test_processes_make_the_issues_the_web_process_makes(
    sessions: SessionMaker, database_url: str, processes: int, width: int
) -> None:
    _, mine, _ = await _two_imports(sessions, 17)
    buffer = io.StringIO()
    async with read_scope(sessions) as session:
        async for page in issue_pages(session, mine, page=4):
            csv.writer(buffer).writerows(page)
        span = await issue_span(session, mine)
    assert span is not None
    dialect = sessions.kw["bind"].dialect
    url = to_driver_url(database_url, asynchronous=False)
    spec = issues_spec(mine, dialect, url)
    chunks = parted_csv(spec, span, processes=processes, width=width)
    made = b"".join([chunk async for chunk in chunks])
    assert made == buffer.getvalue().encode()
    assert len(list(csv.reader(io.StringIO(made.decode())))) == 17


async def test_the_issues_route_gives_the_same_file_either_way(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign_id, mine, _ = await _two_imports(harness.runtime.sessions, 13)
    path = f"/v1/campaigns/{campaign_id}/imports/{mine}/issues.csv"
    made = await _both_ways(harness, monkeypatch, path)
    assert made.startswith("\ufeffrow,phone,reason\r\n2,'=cmd".encode())
    rows = list(csv.reader(io.StringIO(made.decode("utf-8-sig"))))
    assert len(rows) == 14 and b"not mine" not in made


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("sqlite:////var/lib/dialer.db", True),
        ("sqlite:///dialer.db", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("sqlite:///file:x?mode=memory&cache=shared&uri=true", False),
        ("postgresql+psycopg://dialer@127.0.0.1/dialer", True),
    ],
)
def test_a_database_in_memory_is_exported_in_the_web_process(url: str, parts: bool) -> None:
    assert can_part(url) is parts
