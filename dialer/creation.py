"""The rules every new notification is made by, whether one API request makes it
(dialer.notifications.service) or a campaign's bulk import writes it in SQL
(dialer.contacts.importer): its first status, the reason a suppressed one gives, how a send time
without an offset is read, and how a moment is stored. tests/test_creation.py runs one table of
cases through both paths."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dialer.vocabulary import CampaignStatus, NotificationStatus

__all__ = ["SUPPRESSED_REASON", "initial_status", "local_instant", "stored_utc"]

SUPPRESSED_REASON = "the number is on the do-not-contact list"

_LIVE_CAMPAIGN = frozenset({CampaignStatus.running, CampaignStatus.scheduled})


def initial_status(*, blocked: bool, campaign: CampaignStatus | None = None) -> NotificationStatus:
    """Suppressed if the number is on the do-not-contact list; else queued, or held while its
    campaign is not running (a draft, a paused one)."""
    if blocked:
        return NotificationStatus.suppressed
    if campaign is None or campaign in _LIVE_CAMPAIGN:
        return NotificationStatus.queued
    return NotificationStatus.held


def local_instant(moment: datetime, zones: tuple[ZoneInfo, ...]) -> datetime:
    """An aware `moment` as it is; a naive one read as the person's own local time, which needs
    the number (or the row, or the request) to settle one zone."""
    if moment.tzinfo is not None:
        return moment
    if len(zones) != 1:
        names = ", ".join(z.key for z in zones)
        raise ValueError(f"a local time needs one time zone, and this number may be in {names}")
    return moment.replace(tzinfo=zones[0])


def stored_utc(moment: datetime) -> datetime:
    """How a moment is stored: naive UTC, on SQLite and PostgreSQL alike."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return moment.astimezone(UTC).replace(tzinfo=None)
