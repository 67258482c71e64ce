"""results.csv: one row per contact of a campaign, for a person in a spreadsheet and for a
program alike. Which upload and row it came from, the contact's own columns as uploaded (header
names kept), then what became of it. Rows that never became contacts (invalid, duplicate) are
in each import's issues.csv, so every row of every upload is accounted for in one or the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncGenerator, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.result_rows import ResultRows
from dialer.models import Attempt, Campaign, ContactImport, Notification
from dialer.scripts.defaults import CONFIRM
from dialer.scripts.schemas import Script
from dialer.vocabulary import Channel

__all__ = ["OUR_COLUMNS", "Results", "campaign_results", "script_questions"]

OUR_COLUMNS = [
    "phone",
    "status",
    "outcome",
    "answer",
    "attempts",
    "cost",
    "created_at",
    "finished_at",
    "last_error",
    "last_provider_id",
    "last_provider_status",
    "transferred_to",
    "transfer_s",
]


_OURS = frozenset(("import_id", "row", *OUR_COLUMNS))


def _marked(name: str, mark: str) -> Iterator[str]:
    yield f"{name} ({mark})"
    for n in itertools.count(2):
        yield f"{name} ({mark} {n})"


def _unclaimed(names: Iterable[str], taken: set[str]) -> str:
    """The first of `names` no column has yet, now claimed."""
    shown = next(n for n in names if n not in taken)
    taken.add(shown)
    return shown


class Results:
    """The header of a campaign's results, and its rows read a page at a time."""

    def __init__(
        self,
        imports: list[ContactImport],
        questions: list[str] | None = None,
        *,
        transfers: bool = True,
    ) -> None:
        # Each import's columns: header as uploaded -> key in the contact's variables.
        self._columns = {i.id: dict((h, k) for h, k in (i.columns or [])) for i in imports}
        own: list[str] = []
        for columns in self._columns.values():
            own += [h for h in columns if h not in own]
        # A column of the upload named like one of ours keeps its name, marked as the upload's;
        # the own names are claimed first, so an upload's "phone (csv)" keeps its name too.
        taken = {*_OURS, *own}
        shown = [_unclaimed(_marked(h, "csv"), taken) if h in _OURS else h for h in own]
        # Then one column per question of the script: the label of the key pressed.
        self._questions = questions or []
        asked = [
            _unclaimed(itertools.chain([q], _marked(q, "answer")), taken) for q in self._questions
        ]
        self.header = ["import_id", "row", *shown, *OUR_COLUMNS, *asked]
        self._transfers = transfers
        # Per import: the key of each of those columns in its contacts' variables, if it has it.
        keys = {i: [mine.get(h) for h in own] for i, mine in self._columns.items()}
        self.rows = ResultRows(keys, len(own), self._questions)

    def query(self, campaign_id: int, size: int | None, *, dialect: str) -> Any:
        """The statement that reads the rows' columns: see `_page_query`."""
        return _page_query(
            campaign_id,
            size,
            transfers=self._transfers,
            answers=bool(self._questions),
            grouped=dialect == "sqlite",
        )

    async def pages(
        self, session: AsyncSession, campaign_id: int, page: int = 5000
    ) -> AsyncGenerator[list[list[Any]], None]:
        """One row per contact, in upload and CSV order, a page at a time: keyset on the
        index (campaign_id, id), so each page starts where the last ended whatever the size of
        the campaign; plain rows, not ORM objects. Every cell that came from outside (the
        upload, the person, the provider) is through the spreadsheet guard already."""
        conn = await session.connection()
        # Made once: building it took 4 ms, for every page.
        query = self.query(campaign_id, page, dialect=conn.dialect.name)

        async def fetch(after: int) -> Sequence[Any]:
            return (await conn.execute(query, {"after": after})).all()

        # The next page is read while this one is written: the database's work (its reads
        # and the attempts' index probes) runs beside ours.
        pending = asyncio.ensure_future(fetch(0))
        try:
            while contacts := await pending:
                pending = asyncio.ensure_future(fetch(contacts[-1][0]))
                await asyncio.sleep(0)  # so that it starts before this page is written
                yield self.rows.rows(contacts)
        finally:
            # Stopped early (the client went away): the read in flight ends before the
            # session that runs it closes. Not cancelled: that would break the connection.
            with contextlib.suppress(Exception):
                await pending


def _page_query(
    campaign_id: int,
    size: int | None,
    *,
    transfers: bool,
    answers: bool = True,
    grouped: bool = False,
) -> Any:
    """The `size` contacts after the id bound as `after`, or with no `size` those with ids from
    `lo` up to `hi`, by the index (campaign_id, id), in id order, with what their attempts
    say, found by index in the database rather than in Python: the sum of their costs, the
    last one's provider id and status, and the last transfer (looked for only when the
    campaign's script can transfer a call). The answers to a script's questions are read only
    if it asks any.

    By default, a scalar subquery each, not a join: PostgreSQL would hash every attempt of the
    table for each page. `grouped` (SQLite): the contact's attempts joined and grouped, one
    pass over them instead of three; with one max() in a query, SQLite takes its other bare
    columns from the row of the maximum, the last attempt's. Either way a last column, the last
    attempt's number or NULL, is of no use to the file."""
    of_contact = col(Attempt.notification_id) == col(Notification.id)

    def last(column: Any, *where: Any) -> Any:
        found = sa.select(column).where(of_contact, *where)
        return found.order_by(col(Attempt.number).desc()).limit(1).scalar_subquery()

    transfer: tuple[Any, ...] = (sa.null(), sa.null())
    if transfers:
        transferred = col(Attempt.transferred_to).is_not(None)
        transfer = (
            last(col(Attempt.transferred_to), transferred),
            last(col(Attempt.transfer_s), transferred),
        )
    contact = (*_CONTACT, _plain(col(Notification.answers)) if answers else sa.null())
    of_page: tuple[Any, ...] = (col(Notification.campaign_id) == campaign_id,)
    if size is None:
        lo, hi = (sa.bindparam(name, type_=sa.Integer()) for name in ("lo", "hi"))
        of_page += (col(Notification.id) >= lo, col(Notification.id) < hi)
    else:
        of_page += (col(Notification.id) > sa.bindparam("after", type_=sa.Integer()),)
    if grouped:
        tried = aliased(Attempt)
        query = (
            sa.select(
                *contact,
                sa.func.sum(col(tried.cost)),
                col(tried.provider_id),
                col(tried.provider_status),
                *transfer,
                sa.func.max(col(tried.number)),
            )
            .select_from(Notification)
            .outerjoin(tried, col(tried.notification_id) == col(Notification.id))
            .where(*of_page)
            .group_by(col(Notification.id))
        )
    else:
        query = sa.select(
            *contact,
            sa.select(sa.func.sum(col(Attempt.cost))).where(of_contact).scalar_subquery(),
            last(col(Attempt.provider_id)),
            last(col(Attempt.provider_status)),
            *transfer,
            sa.null(),
        ).where(*of_page)
    query = query.order_by(col(Notification.id))
    return query if size is None else query.limit(size)


def _plain(column: Any) -> Any:
    """A column read as text, without SQLAlchemy's or the driver's conversion per value (three
    times the cost of the rest of a row): an enum's value, a JSON document, a timestamp."""
    return sa.cast(column, sa.Text()).label(column.key)


def _iso(column: Any) -> Any:
    """A stored UTC timestamp ('2026-12-02 19:20:00.123456') in ISO 8601 with its offset, made
    by the database."""
    text = sa.cast(column, sa.Text())
    return (sa.func.replace(text, " ", "T", type_=sa.Text()) + "+00:00").label(column.key)


_CONTACT = (
    col(Notification.id),
    col(Notification.import_id),
    col(Notification.row_number),
    _plain(col(Notification.variables)),
    col(Notification.to_number),
    _plain(col(Notification.status)),
    _plain(col(Notification.outcome)),
    col(Notification.answer),
    col(Notification.attempts_made),
    _iso(col(Notification.created_at)),
    _iso(col(Notification.finished_at)),
    col(Notification.last_error),
)


async def campaign_results(session: AsyncSession, campaign_id: int) -> Results:
    campaign = await session.get(Campaign, campaign_id)
    questions = script_questions(campaign) if campaign is not None else []
    imports = await session.exec(
        select(ContactImport)
        .where(col(ContactImport.campaign_id) == campaign_id)
        .order_by(col(ContactImport.id))
    )
    transfers = campaign is not None and campaign.script is not None and _transfers(campaign)
    return Results(list(imports.all()), questions, transfers=transfers)


def _transfers(campaign: Campaign) -> bool:
    """Whether its script (fixed at creation) can transfer a call."""
    try:
        script = Script.model_validate(campaign.script)
    except ValueError:
        return True  # stored before a rule existed: looked for, as always
    return any(step.transfer is not None for step in script.steps.values())


def script_questions(campaign: Campaign) -> list[str]:
    """The questions its calls ask: its script's, or the default script's on a Voxology
    campaign with detection."""
    if campaign.script is not None:
        try:
            return Script.model_validate(campaign.script).questions()
        except ValueError:
            return []  # stored before a rule existed: its answers are still in `answer`
    if campaign.channel is Channel.voice_flow:
        return [CONFIRM]
    return []
