"""What each provider can do, as facts of its adapter (XoxzoProvider.capabilities, ...), looked
up by the provider's name wherever only the name is at hand (a stored row, a request body)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dialer.vocabulary import Channel, ProviderName

__all__ = ["VOXOLOGY", "XOXZO", "Capabilities", "capabilities_of", "known_providers"]


@dataclass(frozen=True)
class Capabilities:
    name: ProviderName
    channels: frozenset[Channel]
    # The language of its calls when a campaign names none.
    default_lang: Literal["ja", "en"]
    # URL schemes of the recordings it can play.
    recording_schemes: frozenset[str]
    # An SMS may come from a sender name (letters), not only from one of the account's numbers.
    sms_sender_names: bool
    # A conference rings every participant with one request (one attempt per participant).
    conference_in_one_request: bool
    # Its calls run the call flows our endpoint serves: they carry session data naming the
    # attempt, a ring timeout and a longest call time, and the flow is checked before dialling.
    call_flows: bool


XOXZO = Capabilities(
    name=ProviderName.xoxzo,
    channels=frozenset({Channel.tts, Channel.playback, Channel.conference, Channel.sms}),
    default_lang="ja",
    recording_schemes=frozenset({"http"}),
    sms_sender_names=True,
    conference_in_one_request=True,
    call_flows=False,
)

VOXOLOGY = Capabilities(
    name=ProviderName.voxology,
    channels=frozenset(
        {Channel.tts, Channel.playback, Channel.voice_flow, Channel.conference, Channel.sms}
    ),
    # Voxology's voices are English.
    default_lang="en",
    recording_schemes=frozenset({"http", "https"}),
    sms_sender_names=False,
    conference_in_one_request=False,
    call_flows=True,
)

_BY_NAME = {c.name.value: c for c in (XOXZO, VOXOLOGY)}


def known_providers() -> list[str]:
    return sorted(_BY_NAME)


def capabilities_of(provider: str) -> Capabilities:
    """KeyError for a name no adapter has (stored rows and requests are checked against
    known_providers() first)."""
    return _BY_NAME[provider]
