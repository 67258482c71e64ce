"""Place one call for one due notification, without ever ringing a person twice by accident.

The attempt is committed as `dialing` before the slot wait, so a job that runs again finds the
notification no longer queued; it is cleared to leave by one more write just before the POST
(dialer.attempts.fence), so a job that dies before then leaves an attempt that is taken back, not
a guess. Our attempt id rides along in the call's tags and callback URL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.attempts.events import Event, NotPlaced, Placed, error_event
from dialer.attempts.fence import TakenBack, mark_each_sent, mark_sent
from dialer.attempts.tags import attempt_tag, session_data_for
from dialer.attempts.transitions import move_notification
from dialer.bounds import STORED
from dialer.callflows.service import check_flow_of
from dialer.campaigns.credit import out_of_credit
from dialer.campaigns.messages import Rendered, render_contact
from dialer.config import RECORD_ANSWER_S, Settings
from dialer.dispatch.claims import claim_batch
from dialer.dispatch.pacing import load_due, slot_for, slots_for
from dialer.group_commit import Merge
from dialer.logs import fields
from dialer.metrics import PROVIDER_SECONDS
from dialer.models import Attempt, Campaign, Notification, channel_of, utcnow
from dialer.pacing.limiter import Limit
from dialer.pacing.service import Paced, Ticket, dial_limits, kind_of, learn
from dialer.providers.base import (
    Ambiguous,
    CallRequest,
    ConferenceProvider,
    ConferenceRequest,
    InsufficientCredit,
    NotSent,
    PlacedCall,
    PlacedConference,
    PlacedMessage,
    Provider,
    ProviderError,
    Rejected,
    SmsRequest,
)
from dialer.providers.capabilities import capabilities_of
from dialer.runtime import Runtime
from dialer.scheduling.policies import RetryPolicy
from dialer.security import callback_token
from dialer.vocabulary import AttemptStatus, Channel, NotificationStatus

__all__ = [
    "build_request",
    "build_requests",
    "callback_url",
    "dial_notification",
    "dial_notifications",
    "send",
]

log = logging.getLogger(__name__)

# When the job dialling must be done by (its start and its timeout): a request is cleared to leave
# only while its answer can still come within it. Cut off mid-request by the job's timeout, it
# would leave a call that may have rung, reconciled and likely closed `unknown`.
_JOB_ENDS: ContextVar[float | None] = ContextVar("dial_job_ends", default=None)

Request = CallRequest | SmsRequest | ConferenceRequest
Answer = PlacedCall | PlacedMessage | PlacedConference
# A claimed notification, its round's attempts, and the requests that place them.
_Claimed = tuple[Notification, list[Attempt], list[tuple[list[int], Request]]]

A = AttemptStatus
N = NotificationStatus


def callback_url(settings: Settings, notification: Notification, attempt: Attempt) -> str:
    """Where the provider reports on this attempt; the token is signed for this attempt alone."""
    assert attempt.id is not None
    token = callback_token(settings.secret_key.get_secret_value(), attempt.provider, attempt.id)
    kind = "voice" if channel_of(notification, attempt).is_voice else "sms"
    base = settings.public_url.rstrip("/")
    return f"{base}/v1/callbacks/{attempt.provider}/{kind}/{attempt.id}/{token}"


def build_requests(
    settings: Settings, notification: Notification, attempts: list[Attempt]
) -> list[tuple[list[Attempt], Request]]:
    """The provider requests for one round, each with the attempts it places: one request per
    attempt, except a Xoxzo conference, which rings every participant with one."""
    one_request = capabilities_of(notification.provider).conference_in_one_request
    if notification.channel is Channel.conference and one_request and not notification.on_fallback:
        request = ConferenceRequest(
            caller=notification.from_number,
            participants=tuple(notification.recipients),
            lang=notification.lang or "ja",
        )
        return [(attempts, request)]
    return [([attempt], build_request(settings, notification, attempt)) for attempt in attempts]


def build_request(
    settings: Settings, notification: Notification, attempt: Attempt
) -> CallRequest | SmsRequest:
    url = callback_url(settings, notification, attempt)
    assert attempt.id is not None
    tag = attempt_tag(attempt.id)
    if channel_of(notification, attempt) is Channel.sms:
        # An attempt with its own channel is the fallback, which sends the fallback text.
        text = notification.fallback_text if attempt.channel else notification.text
        return SmsRequest(
            sender=notification.from_number,
            recipient=notification.to_number,
            message=text or "",
            callback_url=url,
            tag=tag,
        )
    flows = capabilities_of(attempt.provider).call_flows
    policy = RetryPolicy.model_validate(notification.policy, context=STORED) if flows else None
    return CallRequest(
        caller=notification.from_number,
        recipient=attempt.recipient or notification.to_number,
        callback_url=url,
        tag=tag,
        recording_url=notification.recording_url,
        tts_message=notification.text,
        tts_lang=notification.lang,
        # Voxology's flow callbacks echo this; the flow itself is served when the call connects.
        session_data=session_data_for(settings.secret_key.get_secret_value(), attempt.id)
        if flows
        else {},
        ring_timeout_s=policy.ring_timeout_s if policy else None,
        max_call_time_s=policy.max_call_time_s if policy else None,
    )


async def send(provider: Provider, request: Request) -> Answer:
    if isinstance(request, SmsRequest):
        return await provider.send_sms(request)
    if isinstance(request, ConferenceRequest):
        if not isinstance(provider, ConferenceProvider):
            raise Rejected(f"{provider.name} has no conference API")
        return await provider.start_conference(request)
    return await provider.place_call(request)


async def dial_notification(runtime: Runtime, notification_id: int) -> str:
    """One dial for one notification if it is due; returns what happened, for the job log."""
    _JOB_ENDS.set(time.monotonic() + runtime.settings.job_timeout_s)
    try:
        due = await load_due(runtime, [notification_id])
    except _BAD_DATA as exc:
        return await _close_unworkable(runtime, notification_id, exc)
    if not due:
        return "not due"
    return await _dial(runtime, *due[0])


async def dial_notifications(runtime: Runtime, notification_ids: list[int]) -> dict[str, int]:
    """One dial for each of a batch of due notifications (one account's, from the hopper), all
    at once: read in one query, claimed in one transaction (dialer.dispatch.claims); their
    clearances and answers go through the process's writer (dialer.group_commit) in the order
    they come, and each keeps every rule of a dial on its own. How many ended how, for the job
    log. A worker claims no further ahead than it sends: the batch waits for room among the
    worker's dials claimed and not yet answered (runtime.claimed), and each dial gives its
    place back as it ends."""
    _JOB_ENDS.set(time.monotonic() + runtime.settings.job_timeout_s)
    taken = await runtime.claimed.take(len(notification_ids))
    try:
        try:
            due = await load_due(runtime, notification_ids)
        except _BAD_DATA:
            # One of them cannot even be read: each alone, so that one is closed, not the batch.
            dials = [dial_notification(runtime, i) for i in notification_ids]
            ids = notification_ids
        else:
            dials = await _dial_batch(runtime, due)
            ids = [n.id or 0 for n, _ in due]
    except BaseException:
        runtime.claimed.give(taken)
        raise
    # The places of those not dialled at all, then one as each dial ends.
    held = min(taken, len(dials))
    runtime.claimed.give(taken - held)

    async def giving_back(dial: Coroutine[Any, Any, str]) -> str:
        nonlocal held
        try:
            return await dial
        finally:
            if held > 0:
                held -= 1
                runtime.claimed.give()

    try:
        results = await asyncio.gather(*map(giving_back, dials), return_exceptions=True)
    finally:
        runtime.claimed.give(held)  # dials cancelled before they began, if any
    counts: Counter[str] = Counter({"not due": len(notification_ids) - len(ids)})
    for notification_id, result in zip(ids, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result
            # The database or Redis away: this one waits for the next tick, the others go on.
            log.error("dial of notification %s failed", notification_id, exc_info=result)
            result = "error"
        counts[result] += 1
    return {what: n for what, n in counts.items() if n}


@dataclass(frozen=True)
class _Prepared:
    """A due notification as its claim needs it: the limits it is under and its texts,
    worked out before the claim's transaction."""

    notification: Notification
    limits: list[Limit]
    rendered: Rendered


async def _prepare(
    runtime: Runtime, notification: Notification, campaign: Campaign | None
) -> _Prepared:
    limits = dial_limits(runtime.settings, notification, campaign)
    rendered = await render_contact(runtime.templates, notification, campaign)
    return _Prepared(notification, limits, rendered)


async def _claim(runtime: Runtime, prepared: list[_Prepared]) -> dict[int, _Claimed]:
    """Claim these in one transaction (dialer.dispatch.claims), with the requests that will
    place each claimed one's round, by notification id."""
    settings = runtime.settings
    rendered = {p.notification.id: p.rendered for p in prepared if p.notification.id}

    async def claim(session: AsyncSession) -> dict[int, _Claimed]:
        claimed = await claim_batch(session, list(rendered), utcnow(), settings, rendered)
        return {i: _with_requests(settings, n, attempts) for i, (n, attempts) in claimed.items()}

    return await runtime.writes.run(claim)


def _with_requests(
    settings: Settings, notification: Notification, attempts: list[Attempt]
) -> _Claimed:
    requests = [
        ([a.id for a in group if a.id is not None], request)
        for group, request in build_requests(settings, notification, attempts)
    ]
    # Voxology asks for the flow once the person answers: one it could not run must be found
    # now, before anyone's phone rings.
    if any(isinstance(request, CallRequest) for _, request in requests):
        check_flow_of(notification)
    return notification, attempts, requests


async def _dial(runtime: Runtime, notification: Notification, campaign: Campaign | None) -> str:
    notification_id = notification.id
    assert notification_id is not None
    try:
        prepared = await _prepare(runtime, notification, campaign)
        claimed = await _claim(runtime, [prepared])
    except _BAD_DATA as exc:
        # Rolled back: no attempt was opened, nothing was sent.
        return await _close_unworkable(runtime, notification_id, exc)
    if notification_id not in claimed:
        return "not due"
    return await _place(runtime, prepared.limits, claimed[notification_id])


async def _dial_batch(
    runtime: Runtime, due: list[tuple[Notification, Campaign | None]]
) -> list[Coroutine[Any, Any, str]]:
    """The dials of a batch, claimed together. A notification whose own data fails before the
    claim is dialled alone (which closes it with the reason); if the batch's claim fails, every
    one is, so that what one notification's data raises stops no other."""
    made = await asyncio.gather(*(_prepare(runtime, n, c) for n, c in due), return_exceptions=True)
    for outcome in made:
        if isinstance(outcome, BaseException) and not isinstance(outcome, Exception):
            raise outcome
    ready = [p for p in made if isinstance(p, _Prepared)]
    try:
        claimed = await _claim(runtime, ready) if ready else {}
    except Exception as exc:
        log.warning("a batch of %d could not be claimed together: each alone: %r", len(due), exc)
        return [_dial(runtime, n, c) for n, c in due]
    slots = await _slots(runtime, [p for p in ready if p.notification.id in claimed])
    dials: list[Coroutine[Any, Any, str]] = []
    for (notification, campaign), prepared in zip(due, made, strict=True):
        if not isinstance(prepared, _Prepared):
            dials.append(_dial(runtime, notification, campaign))
        elif (found := claimed.get(notification.id or 0)) is not None:
            slot = slots.get(notification.id or 0)
            dials.append(_place(runtime, prepared.limits, found, slot))
        else:
            dials.append(_said("not due"))
    return dials


async def _slots(runtime: Runtime, claimed: list[_Prepared]) -> dict[int, Ticket]:
    """Slots for a batch's claimed dials, one call to the limiter for all those under the same
    limits, in their order; a dial left without one (the wait is too long for it) takes its
    own and learns how long to wait."""
    under: dict[tuple[Limit, ...], list[int]] = {}
    for prepared in claimed:
        under.setdefault(tuple(prepared.limits), []).append(prepared.notification.id or 0)
    slots: dict[int, Ticket] = {}
    for limits, ids in under.items():
        tickets = await slots_for(runtime, list(limits), len(ids))
        slots.update(zip(ids, tickets, strict=False))
    return slots


async def _said(result: str) -> str:
    return result


async def _place(
    runtime: Runtime, limits: list[Limit], claimed: _Claimed, slot: Ticket | None = None
) -> str:
    """Send a claimed round's requests, each at its slot (`slot`, reserved with its batch's,
    or taken now) and after its clearance to leave, and record what the provider answered."""
    notification, attempts, rounds = claimed
    provider = runtime.providers[notification.provider]
    kind = kind_of(notification.channel, on_fallback=notification.on_fallback)
    # The slot is taken after the claim, however long the claim took, so requests leave on
    # the limiter's even grid rather than in bursts behind slow writes.
    ticket = slot or await slot_for(runtime, limits)
    if not isinstance(ticket, Ticket):
        paced = Paced(f"no slot under {limits[0].name} for {ticket:.1f} s", retry_after=ticket)
        await _record(runtime, [a.id for a in attempts if a.id], NotPlaced(paced))
        return "paced"
    results: list[str] = []
    stopped: NotSent | None = None
    maybe_rang = False
    for attempt_ids, request in rounds:
        request_id = attempt_tag(attempt_ids[0])
        try:
            if stopped is not None:
                raise stopped
            if results:  # a later request of the round: committed, so it waits its turn
                ticket = cast(Ticket, await slot_for(runtime, limits[:1], must=True))
            # Cleared to leave at its slot, then into the provider's window: a place there is
            # held from just before the request until a second after its answer, and holding
            # it across the clearance's write as well cost a fifth of the rate on SQLite. The
            # slots keep to the rate, so the wait for a place is rare and short; a worker lost
            # in it leaves an attempt that might have rung, reconciled like any other.
            slept = await ticket.reach_slot()
            _time_to_hear(runtime.settings)
            # A request cleared to leave always has a connection to leave on: one cleared and
            # then queued for a connection, if its worker died, would be reconciled as a call
            # that may have rung, though it never left. Taken after the slot's sleep, so a dial
            # waiting for a slow account's slot holds no place another account's could use.
            async with runtime.sends:
                if not await _clear_to_leave(runtime, attempt_ids):
                    results.append("taken back")
                    continue
                until = _send_by(runtime.settings)
                window = runtime.limiter, limits[0], request_id
                if not await ticket.enter_window(*window, slept=slept, until=until):
                    # Cleared, but it never left: certainly not sent, it waits its turn.
                    raise Paced(
                        "no room in the provider's window while its job lasts", retry_after=1.0
                    )
                sending = time.monotonic()
                try:
                    placed = await send(provider, request)
                finally:
                    took = time.monotonic() - sending
                    PROVIDER_SECONDS.labels(provider.name, kind).observe(took)
        except Paced as exc:  # ours: it never left, nor took a place in the window
            log.info("attempts %s not sent: %s", attempt_ids, exc.message)
            await _record(runtime, attempt_ids, NotPlaced(exc))
            if stopped is None and not maybe_rang:
                stopped = exc  # as for any request certainly not sent
            results.append("paced")
            continue
        except ProviderError as exc:
            log.warning(
                "%s refused or missed the request of attempts %s: %s%s: %s",
                provider.name,
                attempt_ids,
                exc.kind,
                f" (HTTP {exc.status_code})" if exc.status_code else "",
                exc.message,
                extra=fields(
                    provider=provider.name,
                    attempt_ids=attempt_ids,
                    error=exc.kind,
                    status_code=exc.status_code,
                    message=exc.message,
                ),
            )
            if stopped is None:
                await _tell_limiter(runtime, limits[0], request_id, exc)
            await _record(runtime, attempt_ids, error_event(exc))
            if isinstance(exc, InsufficientCredit):
                await out_of_credit(runtime, provider.name, kind, exc)
            if isinstance(exc, NotSent) and not maybe_rang:
                stopped = exc  # nobody rang: the rest of the round waits with this one
            maybe_rang = maybe_rang or isinstance(exc, Ambiguous)
            results.append(exc.kind)
            continue
        # The limiter first: the request leaves the window a second after this, not after
        # our write; a Redis that is down costs it the lesson, never the record of the call.
        await _tell_limiter(runtime, limits[0], request_id, None)
        await _record(runtime, attempt_ids, Placed(placed))
        maybe_rang = True
        results.append("placed")
    return ", ".join(dict.fromkeys(results))


# What a notification's own stored data can raise (a policy or schedule stored before a rule
# existed, a value out of range); the database or Redis being away is not among them, and
# leaves the notification to the next tick.
# (pydantic's ValidationError is a ValueError, KeyError a LookupError.)
_BAD_DATA = (ValueError, TypeError, OverflowError, LookupError)


def _send_by(settings: Settings) -> float | None:
    """The last moment (time.monotonic()) a request may leave and its answer still be heard
    and recorded within its job; None outside a job."""
    ends = _JOB_ENDS.get()
    return None if ends is None else ends - settings.provider_timeout_s - RECORD_ANSWER_S


def _time_to_hear(settings: Settings) -> None:
    """Paced (not sent, and dialled again later) if the job would end before the provider's
    answer to a request leaving now could be heard and recorded."""
    until = _send_by(settings)
    if until is not None and time.monotonic() > until:
        needs = settings.provider_timeout_s + RECORD_ANSWER_S
        left = max(until + needs - time.monotonic(), 0.0)
        raise Paced(
            f"{left:.1f} s left in its job, {needs:.1f} s needed to hear the answer",
            retry_after=0.0,
        )


async def _close_unworkable(runtime: Runtime, notification_id: int, exc: Exception) -> str:
    """A notification whose claim fails on its own data is closed with the reason, once,
    rather than failing its job again every tick for ever."""
    log.error("notification %s cannot be dialled", notification_id, exc_info=exc)
    reason = f"cannot be dialled: {type(exc).__name__}: {str(exc)[:300]}"

    async def close(session: AsyncSession) -> str:
        notification = await session.get(Notification, notification_id, with_for_update=True)
        if notification is None or notification.status is not N.queued:
            return "not due"
        move_notification(notification, N.failed)
        notification.last_error = reason
        return "failed: its data cannot be dialled"

    return await runtime.writes.run(close)


async def _clear_to_leave(runtime: Runtime, attempt_ids: list[int]) -> bool:
    """The fence (dialer.attempts.fence): from here on the request may have left. A request
    of one attempt is cleared with those of the other dials that wait at the same moment, in
    one statement."""
    after = runtime.settings.ambiguous_after_s
    if len(attempt_ids) == 1:
        return await runtime.writes.merged(_CLEARANCES, (attempt_ids[0], after))

    async def clear(session: AsyncSession) -> None:
        await mark_sent(session, attempt_ids, utcnow(), after)

    try:
        await runtime.writes.run(clear)
    except TakenBack:
        return False
    return True


async def _clear_each(session: AsyncSession, waiting: list[tuple[int, float]]) -> list[bool]:
    now = utcnow()
    cleared: dict[int, bool] = {}
    for after in {after for _, after in waiting}:
        ids = [attempt_id for attempt_id, its in waiting if its == after]
        cleared.update(zip(ids, await mark_each_sent(session, ids, now, after), strict=True))
    return [cleared[attempt_id] for attempt_id, _ in waiting]


async def _record(runtime: Runtime, attempt_ids: list[int], event: Event) -> None:
    """The provider's answer to a request, on its attempts. One attempt's is written with those
    of the other dials answered at the same moment, in one transaction."""
    poll_interval_s = runtime.settings.poll_interval_s
    if len(attempt_ids) == 1:
        await runtime.writes.merged(_ANSWERS, (attempt_ids[0], event, poll_interval_s))
        return

    async def record(session: AsyncSession) -> None:
        round_ = await rounds.load(session, attempt_ids)
        assert round_ is not None  # attempts are never deleted
        rounds.apply(round_, event, utcnow(), poll_interval_s)

    await runtime.writes.run(record)


async def _record_each(
    session: AsyncSession, answers: list[tuple[int, Event, float]]
) -> list[None]:
    loaded = await rounds.load_each(session, [attempt_id for attempt_id, _, _ in answers])
    now = utcnow()
    for (_, event, poll_interval_s), round_ in zip(answers, loaded, strict=True):
        assert round_ is not None  # attempts are never deleted
        rounds.apply(round_, event, now, poll_interval_s)
    return [None] * len(answers)


_CLEARANCES = Merge(_clear_each)
_ANSWERS = Merge(_record_each)


async def _tell_limiter(
    runtime: Runtime, limit: Limit, request_id: str, error: ProviderError | None
) -> None:
    """How the provider answered, for the limiter; Redis being down loses only that."""
    try:
        await learn(runtime.limiter, limit, request_id, error)
    except RedisError as exc:
        log.warning("%s: the limiter did not hear of %s: %s", limit.name, request_id, exc)
