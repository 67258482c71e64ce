"""The polling fallback: one status check of one open attempt."""

from __future__ import annotations

from datetime import timedelta

from dialer.db import session_scope
from dialer.lifecycle import move_attempt
from dialer.models import AttemptStatus, Outcome, utcnow
from dialer.providers.base import ProviderError
from dialer.runtime import Runtime
from dialer.tracking.service import apply_call_status, finish_attempt, load_for_update, plan_check

__all__ = ["check_attempt"]


async def check_attempt(runtime: Runtime, attempt_id: int) -> str:
    settings = runtime.settings
    poll = timedelta(seconds=settings.poll_interval_s)
    async with session_scope(runtime.sessions) as session:
        loaded = await load_for_update(session, attempt_id)
        if loaded is None:
            return "no such attempt"
        attempt, notification = loaded
        now = utcnow()
        plan = plan_check(
            attempt,
            now,
            ambiguous_after_s=settings.ambiguous_after_s,
            reconcile_deadline_s=settings.reconcile_deadline_s,
        )
        if plan.action == "none":
            return "already final"
        if plan.action == "give_up":
            finish_attempt(
                notification,
                attempt,
                Outcome.unknown,
                now,
                error="no final status from the provider before the deadline",
            )
            return "gave up"
        attempt.next_check_at = now + poll
        if plan.action == "reconcile":
            move_attempt(attempt, AttemptStatus.reconciling)
            attempt.error = "worker lost during the provider request; awaiting the provider's word"
        if plan.action != "ask":
            return plan.action
        provider_id = attempt.provider_id
        provider = runtime.providers[attempt.provider]
    assert provider_id is not None
    try:
        status = await provider.call_status(provider_id)
    except ProviderError as exc:
        # next_check_at is already pushed back, so the hopper asks again later.
        return exc.kind
    async with session_scope(runtime.sessions) as session:
        loaded = await load_for_update(session, attempt_id)
        assert loaded is not None
        return apply_call_status(loaded[1], loaded[0], status, utcnow(), settings.poll_interval_s)
