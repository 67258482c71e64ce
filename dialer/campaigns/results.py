"""results.csv: one row per contact of a campaign, for a person in a spreadsheet and for a
program alike. Which upload and row it came from, the contact's own columns as uploaded (header
names kept), then what became of it. Rows that never became contacts (invalid, duplicate) are
in each import's issues.csv, so every row of every upload is accounted for in one or the other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

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


class Results:
    """The header of a campaign's results, and its rows read a page at a time."""

    def __init__(self, imports: list[ContactImport], questions: list[str] | None = None) -> None:
        # Each import's columns: header as uploaded -> key in the contact's variables.
        self._columns = {i.id: dict((h, k) for h, k in (i.columns or [])) for i in imports}
        own: list[str] = []
        for columns in self._columns.values():
            own += [h for h in columns if h not in own]
        self._own = own
        taken = {"import_id", "row", *OUR_COLUMNS}
        # A column of the upload named like one of ours keeps its name, marked as the upload's.
        shown = [f"{h} (csv)" if h in taken else h for h in own]
        # Then one column per question of the script: the label of the key pressed.
        self._questions = questions or []
        taken |= set(shown)
        asked = [f"{q} (answer)" if q in taken else q for q in self._questions]
        self.header = ["import_id", "row", *shown, *OUR_COLUMNS, *asked]

    def own_cells(self, contact: Notification) -> list[str]:
        variables = contact.variables or {}
        mine = self._columns.get(contact.import_id, {})
        return [variables.get(mine[h], "") if h in mine else "" for h in self._own]

    def answer_cells(self, contact: Notification) -> list[str]:
        answers = contact.answers or {}
        return [answers.get(q, "") for q in self._questions]

    async def rows(
        self, session: AsyncSession, campaign_id: int, page: int = 2000
    ) -> AsyncIterator[list[Any]]:
        """One row per contact, in upload and CSV order, a page at a time (keyset on id)."""
        after = 0
        while True:
            contacts = list(
                (
                    await session.exec(
                        select(Notification)
                        .where(
                            col(Notification.campaign_id) == campaign_id,
                            col(Notification.id) > after,
                        )
                        .order_by(col(Notification.id))
                        .limit(page)
                    )
                ).all()
            )
            if not contacts:
                return
            ids = [c.id for c in contacts]
            attempts = await session.exec(
                select(Attempt)
                .where(col(Attempt.notification_id).in_(ids))
                .order_by(col(Attempt.notification_id), col(Attempt.number))
            )
            by_contact: dict[int, list[Attempt]] = {}
            for attempt in attempts.all():
                by_contact.setdefault(attempt.notification_id, []).append(attempt)
            for contact in contacts:
                assert contact.id is not None
                yield [
                    contact.import_id or "",
                    contact.row_number or "",
                    *self.own_cells(contact),
                    *_outcome_cells(contact, by_contact.get(contact.id, [])),
                    *self.answer_cells(contact),
                ]
            after = ids[-1] or after


def _outcome_cells(contact: Notification, tried: list[Attempt]) -> list[Any]:
    last = tried[-1] if tried else None
    costs = [a.cost for a in tried if a.cost is not None]
    transferred = [a for a in tried if a.transferred_to is not None][-1:]
    return [
        contact.to_number,
        contact.status.value,
        contact.outcome.value if contact.outcome else "",
        contact.answer or "",
        contact.attempts_made,
        round(sum(costs), 4) if costs else "",
        contact.created_at.isoformat(),
        contact.finished_at.isoformat() if contact.finished_at else "",
        contact.last_error or "",
        (last.provider_id or "") if last else "",
        (last.provider_status or "") if last else "",
        transferred[0].transferred_to if transferred else "",
        _blank_none(transferred[0].transfer_s) if transferred else "",
    ]


def _blank_none(value: int | None) -> int | str:
    return "" if value is None else value


async def campaign_results(session: AsyncSession, campaign_id: int) -> Results:
    campaign = await session.get(Campaign, campaign_id)
    questions = script_questions(campaign) if campaign is not None else []
    imports = await session.exec(
        select(ContactImport)
        .where(col(ContactImport.campaign_id) == campaign_id)
        .order_by(col(ContactImport.id))
    )
    return Results(list(imports.all()), questions)


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
