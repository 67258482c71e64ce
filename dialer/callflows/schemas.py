"""Request and response bodies of /v1/numbers (a Voxology number's action for callers)."""

from __future__ import annotations

from pydantic import BaseModel

from dialer.din.schemas import ActionBody

__all__ = ["ActionBody", "NumberActionPublic"]


class NumberActionPublic(BaseModel):
    number: str
    # None: the service default (DIALER_DIN_DEFAULT_ACTION) answers.
    action: str | None
