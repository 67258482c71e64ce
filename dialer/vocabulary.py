"""The words the dialer's state is written in: every status, outcome, channel, provider name
and pause kind, as enums that the tables, the API, the providers and the rules share."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FINAL_ATTEMPT",
    "FINAL_NOTIFICATION",
    "OPEN_ATTEMPT",
    "AttemptStatus",
    "CampaignStatus",
    "Channel",
    "EventKind",
    "EventStatus",
    "ImportStatus",
    "NotificationStatus",
    "OptOutChange",
    "Outcome",
    "PauseKind",
    "ProviderName",
    "Scope",
]


class ProviderName(StrEnum):
    xoxzo = "xoxzo"
    voxology = "voxology"


class Channel(StrEnum):
    tts = "tts"
    playback = "playback"
    # A Voxology call with answering-machine detection and a press-1 confirmation.
    voice_flow = "voice_flow"
    # Two or three people rung at once and joined in one call.
    conference = "conference"
    sms = "sms"

    @property
    def is_voice(self) -> bool:
        return self is not Channel.sms


class NotificationStatus(StrEnum):
    # A campaign contact whose campaign is not running (draft, scheduled, paused).
    held = "held"
    queued = "queued"
    dialing = "dialing"
    in_progress = "in_progress"
    delivered = "delivered"
    failed = "failed"
    canceled = "canceled"
    expired = "expired"
    suppressed = "suppressed"


class AttemptStatus(StrEnum):
    dialing = "dialing"
    reconciling = "reconciling"
    in_progress = "in_progress"
    finished = "finished"
    not_sent = "not_sent"


class Outcome(StrEnum):
    answered = "answered"
    delivered = "delivered"
    voicemail = "voicemail"
    no_answer = "no_answer"
    busy = "busy"
    failed = "failed"
    rejected = "rejected"
    opted_out = "opted_out"
    unknown = "unknown"


class CampaignStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    running = "running"
    paused = "paused"
    completed = "completed"
    canceled = "canceled"


class ImportStatus(StrEnum):
    running = "running"
    done = "done"
    failed = "failed"


class OptOutChange(StrEnum):
    """What a request did to a do-not-contact list (unchanged: the number was there already)."""

    added = "added"
    removed = "removed"
    unchanged = "unchanged"


class EventKind(StrEnum):
    attempt_finished = "attempt.finished"
    notification_final = "notification.final"
    campaign_finished = "campaign.finished"


class EventStatus(StrEnum):
    """A webhook event: still to be taken by its endpoint, taken, or given up on."""

    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class PauseKind(StrEnum):
    """Why a campaign is paused: somebody paused it, or the balance no longer covers it (the
    credit watcher resumes those, never the others)."""

    manual = "manual"
    credit = "credit"


class Scope(StrEnum):
    """What an API key (and a console session signed in with it) may do: everything, or read."""

    admin = "admin"
    viewer = "viewer"


N = NotificationStatus
A = AttemptStatus

# The statuses nothing moves on from (dialer.lifecycle's tables give them no way out).
FINAL_NOTIFICATION = frozenset({N.delivered, N.failed, N.canceled, N.expired, N.suppressed})
FINAL_ATTEMPT = frozenset({A.finished, A.not_sent})
# The others, as a list of values an index can be searched by (`not in` the final ones reads
# every attempt ever made).
OPEN_ATTEMPT = sorted(set(A) - FINAL_ATTEMPT)
