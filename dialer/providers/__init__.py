"""Provider adapters. They speak the providers' HTTP APIs and never touch the database."""

from __future__ import annotations

from typing import Literal

from dialer.vocabulary import Channel

__all__ = ["CHANNELS_BY_PROVIDER", "channel_refusal", "default_lang", "recording_refusal"]

# What each provider can carry. Voxology calls run the flows our call-flow endpoint serves.
CHANNELS_BY_PROVIDER: dict[str, frozenset[Channel]] = {
    "xoxzo": frozenset({Channel.tts, Channel.playback, Channel.conference, Channel.sms}),
    "voxology": frozenset(
        {Channel.tts, Channel.playback, Channel.voice_flow, Channel.conference, Channel.sms}
    ),
}


def channel_refusal(provider: str, channel: Channel) -> str | None:
    """Why `provider` cannot carry `channel`, or None if it can."""
    offered = CHANNELS_BY_PROVIDER.get(provider)
    if offered is None:
        return f"unknown provider {provider!r}"
    if channel not in offered:
        names = ", ".join(sorted(offered))
        return f"provider {provider!r} has no channel {channel.value!r} (it has: {names})"
    return None


def recording_refusal(provider: str, scheme: str) -> str | None:
    """Why `provider` cannot play a recording served over `scheme`, or None if it can."""
    if provider == "xoxzo" and scheme != "http":
        return "recording_url: Xoxzo plays only http:// recordings"
    return None


def default_lang(provider: str) -> Literal["ja", "en"]:
    # Xoxzo's own language is Japanese; Voxology's voices are English.
    return "ja" if provider == "xoxzo" else "en"
