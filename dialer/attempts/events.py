"""What can happen to a round's attempts, as the dial path and the trackers report it. Each is
applied by dialer.attempts.rounds.apply, the only code that moves an attempt."""

from __future__ import annotations

from dataclasses import dataclass

from dialer.providers.base import (
    Ambiguous,
    NotSent,
    PlacedCall,
    PlacedConference,
    PlacedMessage,
    ProviderError,
    StatusReport,
)
from dialer.vocabulary import Outcome

__all__ = [
    "Event",
    "GaveUp",
    "MaybePlaced",
    "NeverSent",
    "NotPlaced",
    "Placed",
    "Refused",
    "Reported",
    "Unheard",
    "WorkerLost",
    "error_event",
]


class NeverSent(NotSent):
    """Its job stopped (killed, timed out, cut off from Redis) before the request was cleared
    to leave, as the attempt's unset `sent_at` proves (dialer.attempts.fence)."""

    retry_after = 0.0


class Unheard(NotSent):
    """Its answer was lost, and the provider, asked well after its timeout, has no record of
    it (dialer.tracking.search)."""

    retry_after = 0.0


@dataclass(frozen=True)
class Placed:
    """The provider took the request and named its call, message or conference."""

    answer: PlacedCall | PlacedMessage | PlacedConference


@dataclass(frozen=True)
class NotPlaced:
    """Certainly not sent (refused before acting, paced, never cleared to leave, unheard)."""

    error: NotSent


@dataclass(frozen=True)
class MaybePlaced:
    """No answer that settles it (a timeout, a 5xx): reconciled, never sent again."""

    error: Ambiguous


@dataclass(frozen=True)
class Refused:
    """Refused for good: the request can never succeed as it is."""

    error: ProviderError


@dataclass(frozen=True)
class Reported:
    """The provider's word on the call or message: a callback, a poll or a search."""

    report: StatusReport


@dataclass(frozen=True)
class WorkerLost:
    """Still `dialing` long after its request may have left: its worker died around the POST."""


@dataclass(frozen=True)
class GaveUp:
    """No final word from the provider before the deadline."""

    error: str | None
    outcome: Outcome = Outcome.unknown


Event = Placed | NotPlaced | MaybePlaced | Refused | Reported | WorkerLost | GaveUp


def error_event(error: ProviderError) -> NotPlaced | MaybePlaced | Refused:
    if isinstance(error, NotSent):
        return NotPlaced(error)
    if isinstance(error, Ambiguous):
        return MaybePlaced(error)
    return Refused(error)
