"""Importing a contacts CSV into a campaign: streamed, batched, and every row accounted for.

Each good row becomes a notification of the campaign (the one pipeline); duplicates (by E.164
number, within the campaign) are counted and dropped; numbers on the do-not-contact list are kept
as `suppressed`; every invalid row is recorded with its row number and reason. Rows go in by
batches of `batch_size`, each batch its own transaction, as driver-level bulk statements
(executemany on SQLite, COPY on PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import Connection, Engine, insert, text, update
from sqlmodel import Session, col, select

from dialer.bounds import STORED
from dialer.contacts import parts
from dialer.contacts.checks import Checks, Good, Issue, stage_time
from dialer.contacts.reader import CsvLayout, CsvProblem, Shape, read_rows, read_shape
from dialer.creation import SUPPRESSED_REASON, initial_status, stored_utc
from dialer.models import Campaign, ContactImport, DoNotContact, ImportIssue, Notification, utcnow
from dialer.optouts.service import scopes_for
from dialer.outbox import add_tallies, tally_key
from dialer.scheduling.policies import CampaignPolicy
from dialer.scheduling.schedule import Schedule
from dialer.scripts.schemas import Script
from dialer.templating import template_variables
from dialer.vocabulary import CampaignStatus, ImportStatus

__all__ = ["ImportReport", "copy_text", "import_contacts"]

# Enough of the file's start to hold its header's line.
_HEAD_BYTES = 64 * 1024

_COLUMNS = (
    "campaign_id",
    "import_id",
    "provider",
    "channel",
    "to_number",
    "from_number",
    "lang",
    "recording_url",
    "policy",
    "row_number",
    "variables",
    "timezone",
    "status",
    "attempts_made",
    "last_error",
    "due_at",
    "created_at",
    "updated_at",
    "finished_at",
)


@dataclass
class ImportReport:
    import_id: int
    campaign_id: int
    rows: int = 0
    imported: int = 0
    duplicate: int = 0
    suppressed: int = 0
    invalid: int = 0
    # For a campaign with a script: the longest value of each column its texts use, to check
    # the script's flows at their largest (dialer.campaigns.setup).
    longest: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "import_id": self.import_id,
            "campaign_id": self.campaign_id,
            "rows": self.rows,
            "imported": self.imported,
            "duplicate": self.duplicate,
            "suppressed": self.suppressed,
            "invalid": self.invalid,
        }


@dataclass(frozen=True)
class _Plan:
    """Everything about the campaign that each row needs, worked out once."""

    campaign: Campaign
    needed: frozenset[str]
    status: str
    due_at: datetime
    policy_json: str


def _timestamp(postgres: bool, moment: datetime) -> Any:
    return stored_utc(moment) if postgres else stage_time(moment)


_STAGE_COLUMNS = "to_number, row_number, variables, timezone, blocked, send_at"


def _create_stage(conn: Connection) -> None:
    """A bare table each batch lands in first; only what differs from row to row goes there."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS contact_stage (to_number text, row_number integer, "
            "variables text, timezone text, blocked boolean, send_at timestamp) "
            "ON COMMIT DELETE ROWS"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS contact_stage (to_number TEXT, row_number INTEGER, "
            "variables TEXT, timezone TEXT, blocked INTEGER, send_at TEXT)"
        )


def _insert_sql(postgres: bool) -> str:
    names = ", ".join(_COLUMNS)
    json_type = "::json" if postgres else ""
    select = (
        f"SELECT :campaign_id, :import_id, :provider, :channel, s.to_number, :from_number, :lang, "
        f":recording_url, CAST(:policy AS {'json' if postgres else 'TEXT'}), s.row_number, "
        f"s.variables{json_type}, s.timezone, "
        "CASE WHEN s.blocked THEN 'suppressed' ELSE :status END, 0, "
        "CASE WHEN s.blocked THEN :reason END, COALESCE(s.send_at, :due_at), :now, :now, "
        "CASE WHEN s.blocked THEN :now END FROM contact_stage s"
    )
    if postgres:
        return (
            f"INSERT INTO notification ({names}) {select} "
            "ON CONFLICT (campaign_id, to_number) DO NOTHING"
        )
    return f"INSERT OR IGNORE INTO notification ({names}) {select}"


def copy_text(rows: list[tuple[Any, ...]]) -> bytes:
    """Stage rows in COPY's text format, in one piece: numbers, zone names and t/f need no
    escaping; the JSON's backslashes do (it has escaped every control character already)."""
    lines = [
        f"{number}\t{row_number}\t{variables.replace(chr(92), chr(92) * 2)}\t"
        f"{zone if zone is not None else chr(92) + 'N'}\t{'t' if blocked else 'f'}\t"
        f"{send_at if send_at is not None else chr(92) + 'N'}\n"
        for number, row_number, variables, zone, blocked, send_at in rows
    ]
    return "".join(lines).encode()


def _insert_new(
    conn: Connection, rows: list[tuple[Any, ...]], constants: dict[str, Any], blocked: int
) -> int:
    """Insert what is new (`blocked` of the rows as suppressed), counted in the campaign's
    tallies; returns how many were (a number another import added meanwhile is not)."""
    if not rows:
        return 0
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY contact_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy,
        ):
            copy.write(copy_text(rows))
    else:
        conn.exec_driver_sql("DELETE FROM contact_stage")
        conn.exec_driver_sql("INSERT INTO contact_stage VALUES (?, ?, ?, ?, ?, ?)", rows)
    # On PostgreSQL the stage empties itself at commit (ON COMMIT DELETE ROWS).
    inserted = int(conn.execute(text(_insert_sql(postgres)), constants).rowcount)
    campaign_id = constants["campaign_id"]
    if inserted == len(rows):
        statuses = {constants["status"]: len(rows) - blocked, "suppressed": blocked}
    else:
        # Some numbers were taken by another import meanwhile: count what is ours, exactly.
        ours = conn.execute(
            text(
                "SELECT n.status, count(*) FROM notification n JOIN contact_stage s "
                "ON n.campaign_id = :campaign_id AND n.to_number = s.to_number "
                "WHERE n.import_id = :import_id GROUP BY n.status"
            ),
            constants,
        )
        statuses = {str(status): n for status, n in ours.all()}
    add_tallies(
        conn, Counter({tally_key(campaign_id, s, None, None): n for s, n in statuses.items()})
    )
    return inserted


@dataclass
class _Batch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0


class _BatchWriter:
    """Writes each batch in a transaction of its own on a connection of its own: the rows into
    the stage table, then one INSERT ... SELECT that adds the campaign's columns in SQL."""

    def __init__(self, engine: Engine, report: ImportReport, constants: dict[str, Any]) -> None:
        self.report = report
        self.constants = constants
        self.imported = self.suppressed = self.conflicts = 0
        self._engine = engine
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
            with self._conn.begin():
                _create_stage(self._conn)
        return self._conn

    def put(self, batch: _Batch) -> None:
        self._write(batch)

    def _write(self, batch: _Batch) -> None:
        conn = self._connection()
        with conn.begin():
            inserted = _insert_new(conn, batch.rows, self.constants, batch.suppressed)
            # A number another import added meanwhile is a duplicate too.
            self.conflicts += len(batch.rows) - inserted
            self.imported += inserted - batch.suppressed
            self.suppressed += batch.suppressed
            if batch.issues:
                conn.execute(insert(ImportIssue), batch.issues)
            _save_counts(conn, self.report, self)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class _ThreadedWriter(_BatchWriter):
    """For PostgreSQL: batches are written on a thread of their own, so the server inserts one
    batch while this process reads the next. (Not for SQLite: its driver takes and drops the
    GIL around every row of an executemany, and a busy reading thread starves it.)"""

    def __init__(self, engine: Engine, report: ImportReport, constants: dict[str, Any]) -> None:
        super().__init__(engine, report, constants)
        self.error: BaseException | None = None
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="contact-import", daemon=True)
        self._thread.start()

    def put(self, batch: _Batch) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        super().close()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while (batch := self._queue.get()) is not None:
                self._write(batch)
        except BaseException as exc:  # raised again on the reading thread
            self.error = exc
            while self._queue.get() is not None:
                pass


def _plan(conn: Connection, campaign_id: int, now: datetime) -> _Plan:
    with Session(conn) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is not None:
            session.expunge(campaign)
    if campaign is None:
        raise CsvProblem(f"no campaign {campaign_id}")
    if campaign.status in (CampaignStatus.completed, CampaignStatus.canceled):
        raise CsvProblem(f"campaign {campaign_id} is {campaign.status}: it takes no more contacts")
    schedule = Schedule.model_validate(campaign.schedule, context=STORED)
    campaign_policy = CampaignPolicy.model_validate(campaign.policy)
    needed = template_variables(campaign.template) if campaign.template else frozenset()
    if campaign.script is not None:
        for _, text in Script.model_validate(campaign.script).texts():
            needed |= template_variables(text)
    return _Plan(
        campaign=campaign,
        needed=needed | campaign_policy.template_variables(),
        status=initial_status(blocked=False, campaign=campaign.status).value,
        due_at=max(now, schedule.start_at) if schedule.start_at else now,
        policy_json=campaign_policy.retry_policy().model_dump_json(),
    )


# Among the numbers seen, one an earlier import brought (its row is in that import's results).
_EARLIER = 0


def _known_numbers(conn: Connection, campaign_id: int) -> dict[int, int]:
    found = conn.execute(
        select(Notification.to_number).where(col(Notification.campaign_id) == campaign_id)
    )
    return dict.fromkeys((int(number[1:]) for number in found.scalars()), _EARLIER)


def _blocked_numbers(conn: Connection, campaign_id: int) -> set[str]:
    scopes = scopes_for(campaign_id)
    found = conn.execute(select(DoNotContact.number).where(col(DoNotContact.scope).in_(scopes)))
    return set(found.scalars())


def import_contacts(
    engine: Engine,
    campaign_id: int,
    stream: BinaryIO,
    layout: CsvLayout | None = None,
    *,
    filename: str | None = None,
    batch_size: int = 20_000,
) -> ImportReport:
    """Import every row of `stream`; raises CsvProblem for a file that cannot be read at all."""
    now = utcnow()
    layout = layout or CsvLayout()
    with engine.connect() as conn, conn.begin():
        plan = _plan(conn, campaign_id, now)
        columns, shape = read_shape(stream, layout)
        variables = [column.name for column in columns]
        absent = sorted(plan.needed - set(variables))
        if absent:
            what = "script" if plan.campaign.script is not None else "template"
            raise CsvProblem(f"the {what} needs column(s) {', '.join(absent)}")
        created = conn.execute(
            insert(ContactImport).values(
                campaign_id=campaign_id, filename=filename, columns=[list(c) for c in columns]
            )
        ).inserted_primary_key
        assert created is not None
        seen = _known_numbers(conn, campaign_id)
        blocked = _blocked_numbers(conn, campaign_id)
        postgres = conn.dialect.name == "postgresql"
    report = ImportReport(import_id=int(created[0]), campaign_id=campaign_id)
    checks = Checks(
        needed=tuple(sorted(plan.needed)),
        region=plan.campaign.default_region,
        fallback_zone=Schedule.model_validate(plan.campaign.schedule, context=STORED).timezone,
        names=tuple(variables),
        keep_values=plan.campaign.script is not None,
    )
    kind = _ThreadedWriter if postgres else _BatchWriter
    writer = kind(engine, report, _constants(plan, report.import_id, postgres, now))
    failure: BaseException | None = None
    try:
        rows = _checked(stream, layout, shape, checks, postgres=postgres)
        _read_into(writer, checks.needed, rows, report, batch_size, seen, blocked)
    except BaseException as exc:
        failure = exc
    finally:
        try:
            writer.close()
        except BaseException as exc:
            failure = failure or exc
        report.imported, report.suppressed = writer.imported, writer.suppressed
        report.duplicate += writer.conflicts
    # Whatever happened, the import ends with the counts of exactly what was written (each
    # batch is its own transaction): never left `running`.
    with engine.connect() as conn, conn.begin():
        _save_counts(
            conn,
            report,
            None,
            status=ImportStatus.failed if failure else ImportStatus.done,
            error=f"{_kept(report)}; then: {failure}"[:1000] if failure else None,
            finished_at=utcnow(),
        )
    if failure is not None:
        raise failure
    return report


def _kept(report: ImportReport) -> str:
    return (
        f"kept {report.imported} imported and {report.suppressed} suppressed of "
        f"{report.rows} rows read"
    )


def _checked(
    stream: BinaryIO, layout: CsvLayout, shape: Shape, checks: Checks, *, postgres: bool
) -> Iterator[Good | Issue]:
    """The file's rows checked: by processes beside this one for a large file that can be cut
    into parts (dialer.contacts.parts), else here; the same rows in the same order either way.
    Not into PostgreSQL: there this process reads while a thread writes and the server takes
    the rest of the cores (on this 2-core machine, with the server on it, the parts made a
    million rows slower: 36,268 and 38,727 rows/s against 40,946)."""
    stream.seek(0)
    start = parts.partable(shape, stream.read(_HEAD_BYTES))
    size = stream.seek(0, os.SEEK_END)
    if not postgres and start is not None and size >= parts.PARTED_FROM_BYTES:
        stream.seek(start)
        return parts.checked_in_parts(
            stream, shape, checks, size=parts.PART_BYTES, processes=parts.PROCESSES
        )
    stream.seek(0)
    _, rows = read_rows(stream, layout)
    return checks.checked(rows)


def _read_into(
    writer: _BatchWriter,
    needed: tuple[str, ...],
    rows: Iterator[Good | Issue],
    report: ImportReport,
    batch_size: int,
    seen: dict[int, int],
    blocked: set[str],
) -> None:
    batch = _Batch()
    import_id = report.import_id
    longest = report.longest
    for checked in rows:
        report.rows += 1
        if len(checked) == 3:
            report.invalid += 1
            row, phone, reason = checked
            batch.issues.append(_issue(import_id, row, phone, reason))
            continue
        key, number, row, variables, zone, send_at, phone, values = checked
        first = seen.get(key)
        if first is not None:
            report.duplicate += 1
            reason = (
                f"duplicate of row {first}"
                if first != _EARLIER
                else "duplicate: the number is already in the campaign"
            )
            batch.issues.append(_issue(import_id, row, phone, reason))
            continue
        seen[key] = row
        if values is not None:
            for name, value in zip(needed, values, strict=True):
                if len(value) > len(longest.get(name, "")):
                    longest[name] = value
        is_blocked = number in blocked
        batch.suppressed += is_blocked
        if is_blocked:  # a contact, `suppressed` in the results; listed with the issues too
            batch.issues.append(_issue(import_id, row, phone, SUPPRESSED_REASON))
        batch.rows.append((number, row, variables, zone, is_blocked, send_at))
        if len(batch.rows) >= batch_size:
            writer.put(batch)
            batch = _Batch()
    writer.put(batch)


def _issue(import_id: int, row: int, phone: str, reason: str) -> dict[str, Any]:
    """A row not imported, for the import's issues."""
    return {"import_id": import_id, "row_number": row, "reason": reason, "phone": phone}


def _constants(plan: _Plan, import_id: int, postgres: bool, now: datetime) -> dict[str, Any]:
    """What every contact of this import shares, bound once per batch."""
    campaign = plan.campaign
    return {
        "campaign_id": campaign.id,
        "import_id": import_id,
        "provider": campaign.provider,
        "channel": campaign.channel.value,
        "from_number": campaign.from_number,
        "lang": campaign.lang,
        "recording_url": campaign.recording_url,
        "policy": plan.policy_json,
        "status": plan.status,
        "reason": SUPPRESSED_REASON,
        "due_at": _timestamp(postgres, plan.due_at),
        "now": _timestamp(postgres, now),
    }


def _save_counts(
    conn: Connection, report: ImportReport, written: _BatchWriter | None, **extra: Any
) -> None:
    """The import's counts so far; `written`: the writer's own, while it is still running."""
    conn.execute(
        update(ContactImport)
        .where(col(ContactImport.id) == report.import_id)
        .values(
            rows=report.rows,
            imported=written.imported if written else report.imported,
            duplicate=report.duplicate + (written.conflicts if written else 0),
            suppressed=written.suppressed if written else report.suppressed,
            invalid=report.invalid,
            **extra,
        )
    )
