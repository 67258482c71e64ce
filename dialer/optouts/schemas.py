"""Request and response bodies of the do-not-contact lists."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from dialer.models import DoNotContact

__all__ = ["BlockCreate", "BlockPublic", "EventPublic", "ImportIssuePublic", "ImportPublic"]


class BlockCreate(BaseModel):
    number: str = Field(min_length=1, max_length=32)
    reason: str | None = Field(None, max_length=500)


class BlockPublic(BaseModel):
    number: str
    source: str
    reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: DoNotContact) -> BlockPublic:
        return cls.model_validate(entry, from_attributes=True)


class EventPublic(BaseModel):
    """One change to a list (or a request that changed nothing), and who asked, how and when."""

    scope: str
    number: str
    change: str
    source: str
    reason: str | None
    reference: str | None
    happened_at: datetime
    recorded_at: datetime


class ImportIssuePublic(BaseModel):
    row: int
    value: str
    reason: str


class ImportPublic(BaseModel):
    """What an import of numbers did with each row of its file."""

    rows: int
    added: int
    already: int
    invalid: int
    # The first 100 rows not taken; `invalid` counts them all.
    issues: list[ImportIssuePublic]
    stopped: str | None
