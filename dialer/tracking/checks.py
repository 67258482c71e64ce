"""The polling fallback: one status check of one open attempt."""

from __future__ import annotations

from datetime import timedelta

from dialer.attempts import rounds
from dialer.attempts.events import GaveUp, WorkerLost
from dialer.attempts.fence import take_back
from dialer.attempts.rules import past_deadline, plan_check
from dialer.db import session_scope
from dialer.models import channel_of, utcnow
from dialer.pacing.limiter import Limit
from dialer.pacing.service import Ticket, account_limit, take_slot
from dialer.providers.base import (
    ConferenceProvider,
    FindsRequests,
    Provider,
    ProviderError,
    SentRequest,
    StatusReport,
)
from dialer.runtime import Runtime
from dialer.tracking.search import apply_search, sent_request
from dialer.tracking.service import apply_report
from dialer.vocabulary import FINAL_ATTEMPT

__all__ = ["check_attempt", "read_status"]


async def check_attempt(runtime: Runtime, attempt_id: int) -> str:
    settings = runtime.settings
    poll = timedelta(seconds=settings.poll_interval_s)
    async with session_scope(runtime.sessions) as session:
        round_ = await rounds.load(session, [attempt_id])
        if round_ is None:
            return "no such attempt"
        attempt, notification = round_.attempts[0], round_.notification
        now = utcnow()
        action = plan_check(
            attempt,
            now,
            ambiguous_after_s=settings.ambiguous_after_s,
            reconcile_deadline_s=settings.reconcile_deadline_s,
        )
        if action == "none":
            return "already final"
        if action == "give_up":
            late = GaveUp("no final status from the provider before the deadline")
            return rounds.apply(round_, late, now, poll.total_seconds())
        if action == "take_back":
            return f"took back {await take_back(session, notification, now, poll.total_seconds())}"
        attempt.next_check_at = now + poll
        if action == "reconcile":
            rounds.apply(round_, WorkerLost(), now, poll.total_seconds())
        provider = runtime.providers[attempt.provider]
        is_voice = channel_of(notification, attempt).is_voice
        sent = sent_request(settings, notification, attempt, now)
        if action != "ask" and (sent is None or not isinstance(provider, FindsRequests)):
            return action
        provider_id, conference_id = attempt.provider_id, attempt.conference_id
    limit = account_limit(settings, provider.name, "status")
    ticket = await take_slot(runtime.limiter, [limit], settings.pacing_max_wait_s)
    if not isinstance(ticket, Ticket):
        return "paced"  # next_check_at is pushed back already: the hopper asks again
    if provider_id is None:
        assert sent is not None and isinstance(provider, FindsRequests)
        return await _search(runtime, attempt_id, provider, sent, ticket, limit, is_voice=is_voice)
    try:
        status: StatusReport | None = await ticket.send(
            runtime.limiter,
            limit,
            f"check-{attempt_id}",
            lambda: read_status(provider, provider_id, conference_id, is_voice=is_voice),
        )
        failure = None
    except ProviderError as exc:
        status, failure = None, exc
    async with session_scope(runtime.sessions) as session:
        round_ = await rounds.load(session, [attempt_id])
        assert round_ is not None  # attempts are never deleted
        attempt = round_.attempts[0]
        now = utcnow()
        result: str = failure.kind if failure else "no status"
        if status is not None:
            result = await apply_report(session, round_, status, now, settings.poll_interval_s)
        if attempt.status not in FINAL_ATTEMPT and past_deadline(
            attempt, now, settings.reconcile_deadline_s
        ):
            if status is not None and status.settled_outcome is not None:
                settled = GaveUp(None, status.settled_outcome)
                rounds.apply(round_, settled, now, settings.poll_interval_s)
                result = "settled"
            else:
                late = GaveUp(f"not final at the provider before the deadline ({result})")
                result = rounds.apply(round_, late, now, settings.poll_interval_s)
        # On a failed status read, next_check_at is already pushed back: the hopper asks again.
        return result


async def _search(
    runtime: Runtime,
    attempt_id: int,
    provider: FindsRequests,
    sent: SentRequest,
    ticket: Ticket,
    limit: Limit,
    *,
    is_voice: bool,
) -> str:
    """Ask the provider for a request whose answer was lost (dialer.tracking.search)."""
    try:
        found = await ticket.send(
            runtime.limiter,
            limit,
            f"search-{attempt_id}",
            lambda: provider.find_call(sent) if is_voice else provider.find_message(sent),
        )
    except ProviderError as exc:
        return exc.kind  # next_check_at is pushed back already: the hopper asks again
    async with session_scope(runtime.sessions) as session:
        round_ = await rounds.load(session, [attempt_id])
        assert round_ is not None
        return await apply_search(session, round_, sent, found, utcnow(), runtime.settings)


async def read_status(
    provider: Provider, provider_id: str, conference_id: str | None, *, is_voice: bool
) -> StatusReport | None:
    """The provider's word on one call or message; a conference leg from its conference."""
    if conference_id is not None and isinstance(provider, ConferenceProvider):
        legs = await provider.conference_status(conference_id)
        return next((leg for leg in legs if leg.provider_id == provider_id), None)
    if is_voice:
        return await provider.call_status(provider_id)
    return await provider.message_status(provider_id)
