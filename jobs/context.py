"""The typed arq job context."""

from __future__ import annotations

from typing import TypedDict

from arq.connections import ArqRedis

from dialer.config import Settings
from dialer.runtime import Runtime

__all__ = ["JobContext"]


class JobContext(TypedDict, total=False):
    redis: ArqRedis
    job_id: str
    job_try: int
    settings: Settings
    runtime: Runtime
