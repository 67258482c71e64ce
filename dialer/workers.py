"""The arq worker, built by the factory the settings name: `jobs/` builds on `dialer/`, so the
dialer reaches its worker by name rather than importing it."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from arq import Worker

from dialer.config import Settings

__all__ = ["WorkerFactory", "make_worker", "shutdown_grace_s"]


class WorkerFactory(Protocol):
    def __call__(self, settings: Settings, redis_url: str, **overrides: Any) -> Worker: ...


def _factory(spec: str) -> WorkerFactory:
    module_name, _, attribute = spec.partition(":")
    factory: WorkerFactory = getattr(importlib.import_module(module_name), attribute)
    return factory


def make_worker(settings: Settings, redis_url: str, **overrides: Any) -> Worker:
    return _factory(settings.worker_factory)(settings, redis_url, **overrides)


def shutdown_grace_s(settings: Settings) -> int:
    """How long a stopping worker lets running jobs finish: a dial cut off mid-POST is ambiguous."""
    return int(settings.provider_timeout_s) + 5
