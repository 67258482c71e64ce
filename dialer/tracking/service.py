"""A provider's report on an attempt, applied, and what a final one means beyond the attempt:
a recipient who opted out goes on the do-not-contact list, a balance gone mid-call pauses the
campaign for credit. Callbacks, polls, searches and Voxology's flow callbacks all come here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.attempts.events import Reported
from dialer.attempts.rounds import Applied, Round
from dialer.campaigns.service import INSUFFICIENT_CREDIT, pause_if_live
from dialer.models import channel_of, utcnow
from dialer.optouts.service import block_number
from dialer.providers.base import StatusReport
from dialer.vocabulary import Outcome, PauseKind

__all__ = ["Callback", "apply_callbacks", "apply_report"]


async def apply_report(
    session: AsyncSession,
    round_: Round,
    report: StatusReport,
    now: datetime,
    poll_interval_s: float,
) -> Applied:
    result = rounds.apply(round_, Reported(report), now, poll_interval_s)
    if result != "final":
        return result
    notification, attempt = round_.notification, round_.attempts[0]
    if report.out_of_credit and notification.campaign_id is not None:
        # The credit watcher resumes it once the balance covers it again.
        reason = f"{INSUFFICIENT_CREDIT}: {report.error}"
        await pause_if_live(session, notification.campaign_id, reason, PauseKind.credit)
    if report.outcome is Outcome.opted_out:
        await block_number(
            session,
            notification.to_number,
            source=f"{attempt.provider} opt-out",
            reason=f"{attempt.provider} reported {report.raw_status}",
        )
    return result


@dataclass(frozen=True)
class Callback:
    """A provider's report on one of our attempts, as its callback URL and body said."""

    attempt_id: int
    provider: str
    voice: bool
    report: StatusReport
    poll_interval_s: float


async def apply_callbacks(session: AsyncSession, callbacks: list[Callback]) -> list[Applied | None]:
    """Each callback's report applied to its attempt, the attempts and their notifications
    read in two queries for them all; None for one whose attempt is not the provider's of that
    kind (or is gone)."""
    loaded = await rounds.load_each(session, [c.attempt_id for c in callbacks])
    now = utcnow()
    results: list[Applied | None] = []
    for callback, round_ in zip(callbacks, loaded, strict=True):
        if (
            round_ is None
            or round_.attempts[0].provider != callback.provider
            or callback.voice != channel_of(round_.notification, round_.attempts[0]).is_voice
        ):
            results.append(None)
            continue
        report, interval = callback.report, callback.poll_interval_s
        results.append(await apply_report(session, round_, report, now, interval))
    return results
