"""A large file read in parts, by processes beside the importing one, gives the rows read_rows
gives, checked the same, in the same order, with the same numbers: whatever the line ends, blank
lines, quotes left open, undecodable bytes and wherever the parts are cut; and an import of it
writes the same contacts and issues (on SQLite: into PostgreSQL a file is read here)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dialer.contacts import parts
from dialer.contacts.checks import Checks, Good, Issue
from dialer.contacts.importer import import_contacts
from dialer.contacts.reader import CsvLayout, read_rows, read_shape
from dialer.db import make_sync_engine
from dialer.models import DoNotContact, ImportIssue, Notification
from tests.contacts.test_accounting import sms_campaign
from tests.support import our_children

CHECKS = Checks(
    needed=("name",),
    region="JP",
    fallback_zone="Asia/Tokyo",
    names=("name",),
    keep_values=True,
)
_CELLS = st.sampled_from(
    [
        "090-1234-5670",
        "+81 90 1234 5671",
        "09012345670",
        "12",
        "",
        " ",
        '"090-1234-5672"',
        '"unclosed',
        'a"b',
        '"x,y"',
        "=cmd",
        "2026-12-24T10:00",
        "Asia/Tokyo",
        "Mars/Base",
        "名前",
        "\x00",
    ]
)
_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def _file(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(
            st.tuples(st.lists(_CELLS, min_size=0, max_size=5), _ENDS), min_size=0, max_size=25
        )
    )
    body = "".join(",".join(cells) + end for cells, end in lines)
    if lines and draw(st.booleans()):
        body = body.rstrip("\r\n")  # a last line without its end
    data = body.encode()
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]  # bytes UTF-8 cannot decode
    return ("phone,name,send_at,timezone" + draw(_ENDS)).encode() + data


def _serial(data: bytes) -> list[Good | Issue]:
    _, rows = read_rows(io.BytesIO(data), CsvLayout())
    return list(CHECKS.checked(rows))


def _parted(data: bytes, size: int, processes: int = 0) -> list[Good | Issue] | None:
    stream = io.BytesIO(data)
    _, shape = read_shape(stream, CsvLayout())
    start = parts.partable(shape, data)
    if start is None:
        return None
    stream.seek(start)
    return list(parts.checked_in_parts(stream, shape, CHECKS, size=size, processes=processes))


@given(_file(), st.integers(1, 40))
@settings(max_examples=300, deadline=None)
def test_the_parts_give_the_rows_read_rows_gives(data: bytes, size: int) -> None:
    made = _parted(data, size)
    # None only for a header ending in a CR with nothing after: read here, as it should be.
    assume(made is not None or data.endswith(b"\r"))
    assert made is None or made == _serial(data)


def test_processes_give_the_rows_read_rows_gives() -> None:
    lines = [f"090-{1000 + i % 700:04d}-{i:04d},n{i},,\r\n" for i in range(3000)]
    lines[10] = '090-1111-2222,"never closed,,\n'
    lines[2000] = "\n"
    data = ("phone,name,send_at,timezone\n" + "".join(lines)).encode()
    made = _parted(data, 997, processes=2)
    assert made == _serial(data)
    assert made is not None and len(made) == 2999


def test_a_file_whose_line_ends_are_not_line_feeds_bytes_is_read_here() -> None:
    _, shape = read_shape(io.BytesIO("phone\n".encode("utf-16")), CsvLayout(encoding="utf-16"))
    assert parts.partable(shape, "phone\n1\n".encode("utf-16")) is None
    _, shape = read_shape(io.BytesIO(b"phone\r"), CsvLayout())
    assert parts.partable(shape, b"phone\r") is None  # the CR's LF may be next
    assert parts.partable(shape, b"phone\r\n1") == 7


@pytest.fixture
def engine(sqlite_database_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(sqlite_database_url)
    with Session(engine) as session:
        session.add(DoNotContact(number="+819012340007", scope="global", source="api"))
        session.commit()
    yield engine
    engine.dispose()


def _imported(engine: Engine, data: bytes) -> tuple[dict[str, int], list[Any], list[Any]]:
    campaign_id = sms_campaign(engine)
    report = import_contacts(engine, campaign_id, io.BytesIO(data))
    with Session(engine) as session:
        contacts = session.exec(
            select(
                Notification.to_number,
                Notification.row_number,
                Notification.variables,
                Notification.timezone,
                Notification.status,
                Notification.due_at,
            )
            .where(col(Notification.campaign_id) == campaign_id)
            .order_by(col(Notification.id))
        ).all()
        issues = session.exec(
            select(ImportIssue.row_number, ImportIssue.phone, ImportIssue.reason)
            .where(col(ImportIssue.import_id) == report.import_id)
            .order_by(col(ImportIssue.id))
        ).all()
    counts = {k: v for k, v in report.as_dict().items() if k not in ("import_id", "campaign_id")}
    return counts, [tuple(c[:5]) for c in contacts], [tuple(i) for i in issues]


def test_an_import_in_parts_writes_what_an_import_here_writes(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"090-1234-{i % 400:04d},n{i},,\n" for i in range(1000)]
    lines[5] = "090-1234-9999,n5,2026-12-24T10:00,Asia/Tokyo\r\n"
    lines[6] = "090-1234-9998,n6,tomorrow,\n"
    lines[7] = '"090-1234-9997,unclosed,,\n'
    lines[8] = "12,short,,\n"
    data = ("phone,name,send_at,timezone\n" + "".join(lines)).encode()
    here = _imported(engine, data)
    monkeypatch.setattr(parts, "PARTED_FROM_BYTES", 0)
    monkeypatch.setattr(parts, "PART_BYTES", 333)
    seen: list[int] = []
    real = parts.checked_in_parts

    def counted(*args: Any, **kwargs: Any) -> Iterator[Good | Issue]:
        seen.append(kwargs["processes"])
        return real(*args, **kwargs)

    monkeypatch.setattr(parts, "checked_in_parts", counted)
    parted = _imported(engine, data)
    assert seen == [parts.PROCESSES]
    assert parted[0] == here[0]
    assert here[0]["suppressed"] == 1 and here[0]["invalid"] == 3
    assert parted[1] == here[1] and len(here[1]) == 400 + 1
    assert parted[2] == here[2]


def _children() -> list[int]:
    return our_children("dialer.contacts.part_process")


def test_a_failed_part_process_fails_the_reading_and_a_stopped_one_leaves_none() -> None:
    data = ("phone,name,send_at,timezone\n" + "090-1234-5678,n,,\n" * 500).encode()
    stream = io.BytesIO(data)
    _, shape = read_shape(stream, CsvLayout())
    start = parts.partable(shape, data)
    assert start is not None
    stream.seek(start)
    unreadable = shape._replace(encoding="no-such-encoding")
    with pytest.raises(RuntimeError, match=r"(?s)ended with 1: .*LookupError"):
        list(parts.checked_in_parts(stream, unreadable, CHECKS, size=100))
    assert _children() == []
    stream.seek(start)
    rows = parts.checked_in_parts(stream, shape, CHECKS, size=100)
    assert next(rows)[2] == 2
    assert len(_children()) == 2  # still at work
    rows.close()  # the import stopped
    assert _children() == []
