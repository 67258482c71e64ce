"""Request and response bodies of /v1/dins."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from dialer.din.actions import DinAction, parse_action
from dialer.models import Din

__all__ = ["ActionBody", "DinPublic", "DinSubscribe"]


class DinPublic(BaseModel):
    din_uid: str
    number: str
    action: str | None
    monthly_cost: float | None
    subscribed_at: datetime
    unsubscribed_at: datetime | None

    @classmethod
    def of(cls, din: Din) -> DinPublic:
        return cls.model_validate(din, from_attributes=True)


class ActionBody(BaseModel):
    action: str | None = Field(
        None, description='One action line, e.g. say ja "..."; null for the default.'
    )

    @field_validator("action")
    @classmethod
    def _in_grammar(cls, value: str | None) -> str | None:
        return None if value is None else parse_action(value).line()

    def parsed(self) -> DinAction | None:
        return None if self.action is None else parse_action(self.action)


class DinSubscribe(ActionBody):
    din_uid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")
