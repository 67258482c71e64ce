"""Looking up a request whose answer was lost, by what we sent along with it.

A POST that timed out or died mid-way may or may not have reached the provider. Where the
provider can be asked (Voxology: live calls by session data, call logs by number and time,
messages by our tag), the attempt is found and followed like any other; or, when two searches
well after the request's timeout both come back empty, the provider never heard of it, and the
attempt is given back uncounted: its notification is dialled again. Nothing is resent before
that is established, and a provider that cannot be asked (Xoxzo) leaves the attempt to its
callback or to the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.attempts.events import NotPlaced, Unheard
from dialer.attempts.rounds import Round
from dialer.attempts.tags import attempt_tag, session_data_for
from dialer.config import Settings
from dialer.models import Attempt, Notification
from dialer.providers.base import SentRequest, StatusReport
from dialer.tracking.service import apply_report
from dialer.vocabulary import AttemptStatus, Channel

__all__ = ["NOT_FOUND", "apply_search", "sent_request"]

A = AttemptStatus

# An attempt's provider_status after one search found nothing.
NOT_FOUND = "NOT FOUND"


def sent_request(
    settings: Settings, notification: Notification, attempt: Attempt, now: datetime
) -> SentRequest | None:
    """What to look the attempt up by, if it is a lost request of one person that the provider
    can be asked about and its timeout has passed; else None."""
    if attempt.provider_id or attempt.sent_at is None:
        return None
    if attempt.status not in (A.dialing, A.reconciling) or attempt.conference_id is not None:
        return None
    if notification.channel is Channel.conference and attempt.channel is None:
        return None
    until = attempt.sent_at + timedelta(seconds=settings.provider_timeout_s)
    if now < until:
        return None
    assert attempt.id is not None
    return SentRequest(
        tag=attempt_tag(attempt.id),
        session_data=session_data_for(settings.secret_key.get_secret_value(), attempt.id),
        recipient=attempt.recipient or notification.to_number,
        sender=notification.from_number,
        sent_at=attempt.sent_at,
        until=until,
    )


async def apply_search(
    session: AsyncSession,
    round_: Round,
    sent: SentRequest,
    found: list[StatusReport],
    now: datetime,
    settings: Settings,
) -> str:
    attempt = round_.attempts[0]
    if attempt.provider_id or attempt.status not in (A.dialing, A.reconciling):
        return "known meanwhile"
    ids = [report.provider_id for report in found]
    taken = set(
        (
            await session.exec(
                select(Attempt.provider_id).where(
                    col(Attempt.provider) == attempt.provider, col(Attempt.provider_id).in_(ids)
                )
            )
        ).all()
    )
    found = [report for report in found if report.provider_id not in taken]
    if len(found) == 1:
        attempt.provider_id = found[0].provider_id
        poll_s = settings.poll_interval_s
        return f"found: {await apply_report(session, round_, found[0], now, poll_s)}"
    if found:
        return f"{len(found)} calls may be it"
    settled = now >= sent.until + timedelta(seconds=settings.ambiguous_after_s)
    if attempt.provider_status == NOT_FOUND and settled:
        unheard = Unheard(f"{attempt.provider} has no record of it, asked twice")
        rounds.apply(round_, NotPlaced(unheard), now, settings.poll_interval_s)
        return "unheard"
    attempt.provider_status = NOT_FOUND
    attempt.next_check_at = now + timedelta(seconds=settings.poll_interval_s)
    return "not found yet"
