"""A provider's report on an attempt, applied, and what a final one means beyond the attempt:
a recipient who opted out goes on the do-not-contact list, a balance gone mid-call pauses the
campaign for credit. Callbacks, polls, searches and Voxology's flow callbacks all come here."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.attempts import rounds
from dialer.attempts.events import Reported
from dialer.attempts.rounds import Applied, Round
from dialer.campaigns.service import INSUFFICIENT_CREDIT, pause_if_live
from dialer.optouts.service import block_number
from dialer.providers.base import StatusReport
from dialer.vocabulary import Outcome, PauseKind

__all__ = ["apply_report"]


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
