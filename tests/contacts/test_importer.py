"""Importing contacts into real SQLite and PostgreSQL databases."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dialer.contacts.checks import json_writer
from dialer.contacts.importer import copy_text, import_contacts
from dialer.contacts.reader import CsvLayout, CsvProblem
from dialer.db import make_sync_engine
from dialer.models import Campaign, ContactImport, DoNotContact, ImportIssue, Notification
from dialer.vocabulary import CampaignStatus, Channel, NotificationStatus


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(database_url)
    yield engine
    engine.dispose()


def _campaign(engine: Engine, **fields: object) -> int:
    values = {
        "name": "spring reminders",
        "provider": "xoxzo",
        "channel": Channel.tts,
        "from_number": "+81312345678",
        "template": "Hello {{ name }}, see you at {{ time }}.",
        "lang": "en",
        **fields,
    }
    with Session(engine) as session:
        campaign = Campaign.model_validate(values)
        session.add(campaign)
        session.commit()
        assert campaign.id is not None
        return campaign.id


def _import(engine: Engine, campaign_id: int, text: str, **options: object) -> dict[str, int]:
    report = import_contacts(engine, campaign_id, io.BytesIO(text.encode()), **options)  # type: ignore[arg-type]
    return report.as_dict()


CSV = """phone,name,time
090-1234-5670,Aiko,10:00
+81 90 1234 5671,Kenji,11:00
09012345670,Aiko again,12:00
12,Shorty,13:00
090-1234-5672,,14:00
090-1234-5673,Yuki
090-1234-5674,Haruto,15:00
"""


def test_good_rows_import_and_every_other_row_is_accounted_for(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    with Session(engine) as session:
        session.add(DoNotContact(number="+819012345674", source="api"))
        session.commit()
    report = _import(engine, campaign_id, CSV, batch_size=2)
    assert {k: report[k] for k in ("rows", "imported", "duplicate", "suppressed", "invalid")} == {
        "rows": 7,
        "imported": 2,
        "duplicate": 1,
        "suppressed": 1,
        "invalid": 3,
    }
    with Session(engine) as session:
        issues = session.exec(select(ImportIssue).order_by(col(ImportIssue.row_number))).all()
        assert [(i.row_number, i.reason) for i in issues] == [
            (4, "duplicate of row 2"),
            (5, "invalid phone number: too short"),
            (6, "missing variable 'name'"),
            (7, "expected 3 fields, found 2"),
            (8, "the number is on the do-not-contact list"),
        ]
        contacts = session.exec(select(Notification).order_by(col(Notification.row_number))).all()
        assert [(c.row_number, c.to_number, c.status) for c in contacts] == [
            (2, "+819012345670", NotificationStatus.held),
            (3, "+819012345671", NotificationStatus.held),
            (8, "+819012345674", NotificationStatus.suppressed),
        ]
        assert contacts[0].variables == {"name": "Aiko", "time": "10:00"}
        assert contacts[0].campaign_id == campaign_id and contacts[0].text is None
        assert contacts[0].policy["max_attempts"] == 3
        assert contacts[0].created_at.tzinfo is not None
        record = session.get(ContactImport, report["import_id"])
        assert record is not None and record.status == "done" and record.invalid == 3


def test_a_second_import_dedupes_against_the_first(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    _import(engine, campaign_id, CSV)
    again = _import(engine, campaign_id, "phone,name,time\n090-1234-5671,K,1\n090-1234-5679,N,2\n")
    assert (again["imported"], again["duplicate"]) == (1, 1)


def test_contacts_of_a_running_campaign_are_queued_at_once(engine: Engine) -> None:
    campaign_id = _campaign(engine, status=CampaignStatus.running)
    _import(engine, campaign_id, "phone,name,time\n090-1234-5671,K,1\n")
    with Session(engine) as session:
        [contact] = session.exec(select(Notification)).all()
        assert contact.status is NotificationStatus.queued


def test_a_time_zone_column_is_kept_and_checked(engine: Engine) -> None:
    campaign_id = _campaign(engine, template="Hi {{ name }}")
    report = _import(
        engine,
        campaign_id,
        "phone,name,tz\n+1 415 555 0100,A,America/Los_Angeles\n+1 415 555 0101,B,Mars/Olympus\n",
    )
    assert (report["imported"], report["invalid"]) == (1, 1)
    with Session(engine) as session:
        [contact] = session.exec(select(Notification)).all()
        assert (contact.to_number, contact.timezone) == ("+14155550100", "America/Los_Angeles")


def test_a_send_at_column_sets_each_contacts_time(engine: Engine) -> None:
    campaign_id = _campaign(engine, template="Hi {{ name }}")
    report = _import(
        engine,
        campaign_id,
        "phone,name,send_at\n"
        "090-1234-5670,A,2026-11-26T09:30\n"  # Tokyo local time: 00:30 UTC
        "090-1234-5671,B,2026-11-26T09:30:00+00:00\n"
        "090-1234-5672,C,\n"  # none: with the rest of the campaign
        "090-1234-5673,D,tomorrow at nine\n",
    )
    assert (report["imported"], report["invalid"]) == (3, 1)
    with Session(engine) as session:
        due = {
            c.to_number: c.due_at
            for c in session.exec(select(Notification).order_by(col(Notification.id)))
        }
        [issue] = session.exec(select(ImportIssue)).all()
    assert due["+819012345670"] == datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    assert due["+819012345671"] == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert abs(due["+819012345672"] - datetime.now(UTC)) < timedelta(minutes=5)
    assert issue.row_number == 5 and issue.reason.startswith("send_at: 'tomorrow at nine' is not")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("phone,name\n090-1234-5670,A\n", "the template needs column"),
        ("name,time\nA,1\n", "no phone column"),
    ],
)
def test_a_file_the_campaign_cannot_use_is_refused_whole(
    engine: Engine, text: str, words: str
) -> None:
    campaign_id = _campaign(engine)
    with pytest.raises(CsvProblem, match=words):
        _import(engine, campaign_id, text)
    with Session(engine) as session:
        assert session.exec(select(Notification)).all() == []


@pytest.mark.parametrize(
    "variables",
    [{}, {"name": "Aiko"}, {"名前": '山田 "x"\n\t\\', "n": "\u2028\x00"}],
)
def test_variables_json_is_what_json_dumps_writes(variables: dict[str, str]) -> None:
    write = json_writer(list(variables))
    assert json.loads(write(variables)) == variables


def test_the_copy_text_escapes_what_copy_would_misread() -> None:
    variables = json_writer(["a"])({"a": "tab\there \\ back"})
    rows = [("+819012345670", 2, variables, None, True, None)]
    assert copy_text(rows) == (
        b'+819012345670\t2\t{"a":"tab\\\\there \\\\\\\\ back"}\t\\N\tt\t\\N\n'
    )


def _issues(engine: Engine, import_id: int) -> list[tuple[int, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(ImportIssue.row_number, ImportIssue.reason)
            .where(col(ImportIssue.import_id) == import_id)
            .order_by(col(ImportIssue.row_number))
        )
        return [(n, reason) for n, reason in rows.all()]


def test_an_unclosed_quote_is_reported_and_swallows_nothing(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    rows = [f"090-1234-{5600 + i},Person {i},10:00" for i in range(20)]
    rows[5] = '090-1234-5605,"Person 5,10:00'  # row 7, its quote never closed
    report = import_contacts(
        engine, campaign_id, io.BytesIO(("phone,name,time\n" + "\n".join(rows)).encode())
    )
    assert (report.rows, report.imported, report.invalid) == (20, 19, 1)
    [(row, reason)] = _issues(engine, report.import_id)
    assert row == 7 and "not closed" in reason
    with Session(engine) as session:
        numbers = session.exec(
            select(Notification.row_number).where(col(Notification.campaign_id) == campaign_id)
        ).all()
    assert sorted(numbers) == [n for n in range(2, 22) if n != 7]


def test_a_huge_cell_late_in_the_file_is_one_reported_row(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    rows = [f"+8190{10_000_000 + i:08d},P{i},10:00" for i in range(300)]
    rows[250] = "+819012345678," + "x" * 1_000_000 + ",10:00"
    report = import_contacts(
        engine,
        campaign_id,
        io.BytesIO(("phone,name,time\n" + "\n".join(rows)).encode()),
        batch_size=100,
    )
    assert (report.rows, report.imported, report.invalid) == (300, 299, 1)
    assert _issues(engine, report.import_id)[0][0] == 252


def test_a_header_over_the_field_limit_is_refused_whole(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    body = "phone,name," + "t" * 200_000 + "\n090-1234-5670,A,B\n"
    with pytest.raises(CsvProblem, match="header row cannot be read"):
        import_contacts(engine, campaign_id, io.BytesIO(body.encode()))


@pytest.mark.parametrize(
    "send_at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-09:00", "0001-01-01T00:00:00+09:00"]
)
def test_a_send_at_out_of_range_is_a_reported_row(engine: Engine, send_at: str) -> None:
    campaign_id = _campaign(engine)
    body = f"phone,name,time,send_at\n090-1234-5670,A,1,{send_at}\n090-1234-5671,B,1,\n"
    report = import_contacts(engine, campaign_id, io.BytesIO(body.encode()))
    assert (report.imported, report.invalid) == (1, 1)
    assert "send_at" in _issues(engine, report.import_id)[0][1]


def test_undecodable_bytes_are_that_rows_problem(engine: Engine) -> None:
    campaign_id = _campaign(engine)
    body = b"phone,name,time\n090-1234-5670,A\xff\xfe,1\n090-1234-5671,B,1\n"
    report = import_contacts(engine, campaign_id, io.BytesIO(body), CsvLayout(encoding="utf-8"))
    assert (report.imported, report.invalid) == (1, 1)
    assert "undecodable" in _issues(engine, report.import_id)[0][1]


def test_a_failure_after_some_batches_says_what_was_kept_and_never_stays_running(
    engine: Engine,
) -> None:
    campaign_id = _campaign(engine)
    # A real failure of the database's own, in the third batch.
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "IF NEW.row_number = 250 THEN RAISE EXCEPTION 'disk full'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON notification "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON notification "
                "WHEN NEW.row_number = 250 BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
    rows = [f"+8190{10_000_000 + i:08d},P{i},10:00" for i in range(300)]
    with pytest.raises(Exception, match="disk full"):
        import_contacts(
            engine,
            campaign_id,
            io.BytesIO(("phone,name,time\n" + "\n".join(rows)).encode()),
            batch_size=100,
        )
    with Session(engine) as session:
        record = session.exec(
            select(ContactImport).where(col(ContactImport.campaign_id) == campaign_id)
        ).one()
        kept = session.exec(
            select(Notification.id).where(col(Notification.campaign_id) == campaign_id)
        ).all()
    assert record.status == "failed" and record.finished_at is not None
    assert len(kept) == 200 and record.imported == 200
    assert record.error is not None and "kept 200 imported" in record.error
    assert "disk full" in record.error
