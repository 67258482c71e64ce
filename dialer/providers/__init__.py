"""Provider adapters. They speak the providers' HTTP APIs and never touch the database."""

from __future__ import annotations

from typing import Literal

from dialer.providers.capabilities import capabilities_of, known_providers
from dialer.vocabulary import Channel

__all__ = ["channel_refusal", "default_lang", "recording_refusal"]


def channel_refusal(provider: str, channel: Channel) -> str | None:
    """Why `provider` cannot carry `channel`, or None if it can."""
    if provider not in known_providers():
        return f"unknown provider {provider!r}"
    offered = capabilities_of(provider).channels
    if channel not in offered:
        names = ", ".join(sorted(offered))
        return f"provider {provider!r} has no channel {channel.value!r} (it has: {names})"
    return None


def recording_refusal(provider: str, scheme: str) -> str | None:
    """Why `provider` cannot play a recording served over `scheme`, or None if it can."""
    schemes = capabilities_of(provider).recording_schemes
    if scheme not in schemes:
        allowed = " or ".join(f"{s}://" for s in sorted(schemes))
        return f"recording_url: {provider.capitalize()} plays only {allowed} recordings"
    return None


def default_lang(provider: str) -> Literal["ja", "en"]:
    return capabilities_of(provider).default_lang
