"""A campaign's contacts counted per status, outcome and answer, in one query of its tallies;
and the shape the API and the campaign.finished event give them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.models import CampaignAnswer, CampaignTally
from dialer.vocabulary import FINAL_NOTIFICATION

__all__ = ["Counts", "campaign_counts", "counts_of", "tallies"]


@dataclass(frozen=True)
class Counts:
    statuses: dict[str, int]
    outcomes: dict[str, int]
    answers: dict[str, int]
    # Each question of a script: contacts by the answer they gave.
    questions: dict[str, dict[str, int]] = field(default_factory=dict)


def count_rows(rows: Any) -> Counts:
    """Counts from (status, outcome, answer, n) rows."""
    counts = Counts({}, {}, {})
    for status, outcome, answer, n in rows:
        for found, tally in (
            (status, counts.statuses),
            (outcome, counts.outcomes),
            (answer, counts.answers),
        ):
            if found is not None:
                tally[str(found)] = tally.get(str(found), 0) + n
    return counts


async def campaign_counts(session: AsyncSession, campaign_id: int) -> Counts:
    return (await counts_of(session, [campaign_id]))[campaign_id]


async def counts_of(session: AsyncSession, campaign_ids: list[int]) -> dict[int, Counts]:
    """Several campaigns' counts in one query, from their tallies (kept as contacts change:
    reading them costs the same for ten contacts as for ten million)."""
    query = sa.select(
        col(CampaignTally.campaign_id),
        col(CampaignTally.status),
        col(CampaignTally.outcome),
        col(CampaignTally.answer),
        col(CampaignTally.contacts),
    ).where(col(CampaignTally.campaign_id).in_(campaign_ids), col(CampaignTally.contacts) != 0)
    rows: dict[int, list[Any]] = {i: [] for i in campaign_ids}
    # sqlmodel's select() is typed for four columns at most; this is SQLAlchemy's, with five.
    tallied = (await session.exec(query)).all()  # type: ignore[call-overload]
    for campaign_id, status, outcome, answer, n in tallied:
        rows[campaign_id].append((status, outcome or None, answer or None, n))
    counts = {i: count_rows(found) for i, found in rows.items()}
    answered = sa.select(  # SQLAlchemy's select(), as above
        col(CampaignAnswer.campaign_id),
        col(CampaignAnswer.question),
        col(CampaignAnswer.label),
        col(CampaignAnswer.contacts),
    ).where(col(CampaignAnswer.campaign_id).in_(campaign_ids), col(CampaignAnswer.contacts) != 0)
    given = (await session.exec(answered)).all()  # type: ignore[call-overload]
    for campaign_id, question, label, n in given:
        counts[campaign_id].questions.setdefault(question, {})[label] = n
    return counts


def tallies(counts: Counts) -> dict[str, Any]:
    """A campaign's counts as the API and its events show them."""
    total = sum(counts.statuses.values())
    done = sum(n for status, n in counts.statuses.items() if status in FINAL_NOTIFICATION)
    return {
        "counts": counts.statuses,
        "outcomes": counts.outcomes,
        "answers": counts.answers,
        "questions": counts.questions,
        "progress": round(done / total, 4) if total else 0.0,
    }
