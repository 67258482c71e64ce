"""Every row of every upload is accounted for, whatever the file holds: a property-based test
over generated files of good and hostile rows, against a real SQLite database, that
rows = imported + duplicate + suppressed + invalid, that each good row is imported under its own
row number, and that each bad row is reported with its row number, nothing swallowed."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dialer.contacts.importer import import_contacts
from dialer.contacts.reader import MAX_CELL_CHARS, CsvLayout
from dialer.creation import SUPPRESSED_REASON
from dialer.db import make_sync_engine
from dialer.models import Campaign, DoNotContact, ImportIssue, Notification
from dialer.vocabulary import Channel

BLOCKED = "+819099990000"


@pytest.fixture(scope="module")
def engine(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("accounting") / "dialer.db"
    shutil.copy(sqlite_template, path)
    engine = make_sync_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        session.add(DoNotContact(number=BLOCKED, scope="global", source="api"))
        session.commit()
    yield engine
    engine.dispose()


@dataclass(frozen=True)
class Line:
    text: str
    # The E.164 number a good line imports; None for a line that must be reported.
    number: str | None


_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='",\r\n'),
    min_size=1,
    max_size=12,
).filter(lambda name: not name.isspace())


@st.composite
def _good(draw: st.DrawFn) -> Line:
    digits = draw(st.sampled_from(["12345670", "12345671", "12345672", "99990000"]))
    written = draw(st.sampled_from([f"090-{digits[:4]}-{digits[4:]}", f"+8190{digits}"]))
    name = draw(_NAMES)
    return Line(f'{written},"{name}",', f"+8190{digits}")


_BAD = st.sampled_from(
    [
        "12,Shorty,",  # too short a number
        "hello,Nobody,",  # not a number
        "+⁸¹9011112232,Super,",  # superscript digits
        "090-1234-5670,,",  # a missing variable
        '090-1234-5671,"unclosed,',  # a quote never closed
        "090-1234-5672,a,b,c",  # too many fields
        "090-1234-5673",  # too few
        "090-1234-5674,Aiko,0001-01-01T00:00:00",  # send_at out of range
        "090-1234-5675,Aiko,yesterday",  # send_at not a time
        "090-1234-5676," + "x" * (MAX_CELL_CHARS + 1) + ",",  # a value too long
        "090-1234-5677," + "y" * 200_000 + ",",  # beyond the csv module's own limit
        '=HYPERLINK("http://x"),Evil,',  # a formula where the number goes
    ]
).map(lambda text: Line(text, None))


def sms_campaign(engine: Engine) -> int:
    """A draft SMS campaign whose template needs `name`."""
    with Session(engine) as session:
        campaign = Campaign(
            name="fuzz",
            provider="xoxzo",
            channel=Channel.sms,
            from_number="DIALER",
            template="Hi {{ name }}",
        )
        session.add(campaign)
        session.commit()
        assert campaign.id is not None
        return campaign.id


@given(st.lists(st.one_of(_good(), _BAD), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_imported_or_reported_with_its_number(
    engine: Engine, lines: list[Line]
) -> None:
    campaign_id = sms_campaign(engine)
    body = "phone,name,send_at\n" + "".join(line.text + "\n" for line in lines)
    report = import_contacts(engine, campaign_id, io.BytesIO(body.encode()), CsvLayout())

    expected_rows: dict[str, int] = {}  # number -> the row it first came in on
    bad_rows: list[int] = []
    duplicate_of: dict[int, int] = {}  # row -> the row it repeats
    for row, line in enumerate(lines, start=2):
        if line.number is None:
            bad_rows.append(row)
        elif line.number in expected_rows:
            duplicate_of[row] = expected_rows[line.number]
        else:
            expected_rows[line.number] = row
    duplicates = len(duplicate_of)
    suppressed = int(BLOCKED in expected_rows)

    assert report.rows == len(lines)
    assert report.rows == report.imported + report.duplicate + report.suppressed + report.invalid
    assert (report.invalid, report.duplicate, report.suppressed) == (
        len(bad_rows),
        duplicates,
        suppressed,
    )
    with Session(engine) as session:
        contacts = session.exec(
            select(Notification.to_number, Notification.row_number).where(
                col(Notification.campaign_id) == campaign_id
            )
        ).all()
        issues = session.exec(
            select(ImportIssue.row_number, ImportIssue.reason).where(
                col(ImportIssue.import_id) == report.import_id
            )
        ).all()
    assert dict(contacts) == expected_rows
    # Every row not imported is in the issues (the bad ones, each duplicate with its first),
    # and so is a suppressed one, which is also a contact.
    kinds: dict[str, list[int]] = {"duplicate": [], "suppressed": [], "bad": []}
    for r, reason in issues:
        kind = "duplicate" if reason.startswith("duplicate") else "bad"
        kinds["suppressed" if reason == SUPPRESSED_REASON else kind].append(r)
    assert sorted(kinds["bad"]) == bad_rows
    assert kinds["suppressed"] == ([expected_rows[BLOCKED]] if BLOCKED in expected_rows else [])
    assert {r: reason for r, reason in issues if reason.startswith("duplicate")} == {
        row: f"duplicate of row {first}" for row, first in duplicate_of.items()
    }
