"""What the dialer says about a notification, an attempt and a campaign, in REST answers and in
event bodies alike: each `...Facts` model holds the fields both carry, under one name and type;
the REST models (dialer.notifications.schemas, dialer.campaigns.schemas) and the event bodies
below extend them. Event bodies keep the few names receivers have read since the first release:
`row`, `to`, and `attempts` for the number of attempts made."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from dialer.vocabulary import AttemptStatus, CampaignStatus, Channel, NotificationStatus, Outcome

__all__ = [
    "AttemptEvent",
    "AttemptFacts",
    "CampaignEvent",
    "CampaignFacts",
    "NotificationEvent",
    "NotificationFacts",
]

# Events write their moments as Python's isoformat() always has: 2026-12-02T08:00:00+00:00.
IsoMoment = Annotated[datetime, PlainSerializer(lambda m: m.isoformat(), return_type=str)]


class NotificationFacts(BaseModel):
    id: int
    campaign_id: int | None
    channel: Channel
    status: NotificationStatus
    outcome: Outcome | None
    # A Voxology call's answers, by question (dialer.scripts); `answer` is the label of the
    # first question answered: confirmed or opted_out for the default script.
    answer: str | None
    answers: dict[str, str] | None = None
    last_error: str | None


class NotificationEvent(NotificationFacts):
    """`notification` in notification.final and attempt.finished."""

    row: int | None
    to: str
    attempts: int
    created_at: IsoMoment | None
    finished_at: IsoMoment | None


class AttemptFacts(BaseModel):
    id: int
    number: int
    provider: str
    provider_id: str | None
    provider_status: str | None
    status: AttemptStatus
    outcome: Outcome | None
    error: str | None
    cost: float | None
    duration_s: int | None
    answer: str | None
    answers: dict[str, str] | None = None
    # A script's transfer: the number the person was put through to, and for how long.
    transferred_to: str | None = None
    transfer_s: int | None = None


class AttemptEvent(AttemptFacts):
    """`attempt` in attempt.finished: its channel and number as dialled."""

    channel: Channel
    to: str
    started_at: IsoMoment | None
    ended_at: IsoMoment | None


class CampaignFacts(BaseModel):
    id: int
    name: str
    status: CampaignStatus
    # Contacts by status and by outcome; key presses on Voxology flows: {"confirmed": n}.
    counts: dict[str, int] = Field(default_factory=dict)
    outcomes: dict[str, int] = Field(default_factory=dict)
    answers: dict[str, int] = Field(default_factory=dict)
    # Each question of the campaign's script: contacts by the answer they gave.
    questions: dict[str, dict[str, int]] = Field(default_factory=dict)
    progress: float = 0.0


class CampaignEvent(CampaignFacts):
    """`campaign` in campaign.finished."""

    started_at: IsoMoment | None
    finished_at: IsoMoment | None
