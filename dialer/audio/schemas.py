"""Bodies of /v1/audio."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dialer.models import Audio

__all__ = ["AudioPublic"]


class AudioPublic(BaseModel):
    id: int
    name: str
    filename: str | None
    size_bytes: int
    duration_s: float
    sha256: str
    created_at: datetime
    # Where each provider plays it from (give `audio_id` rather than copying these).
    urls: dict[str, str]

    @classmethod
    def of(cls, audio: Audio, urls: dict[str, str]) -> AudioPublic:
        return cls.model_validate({**audio.model_dump(), "urls": urls})
