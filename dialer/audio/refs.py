"""An audio of the library named by its id in a request (`audio_id`): until the request is
stored, it stands in the message as a URL on a host that cannot exist (RFC 2606's .invalid),
as long as its real URL may be, so that checks measure the flow it will make; the service puts
the real URL in its place before anything is stored."""

from __future__ import annotations

import re

from pydantic import AnyHttpUrl

__all__ = ["PENDING", "pending_ids", "pending_url", "recording_or_audio", "swap_pending"]

PENDING = re.compile(r"http://audio\.invalid/([0-9]{1,18})/x+\.mp3")


def pending_url(audio_id: int) -> str:
    return f"http://audio.invalid/{audio_id}/{'x' * 96}.mp3"


def pending_ids(text: str) -> set[int]:
    return {int(found) for found in PENDING.findall(text)}


def swap_pending(text: str, urls: dict[int, str]) -> str:
    """`text` with each stand-in replaced by its audio's URL."""
    return PENDING.sub(lambda m: urls[int(m.group(1))], text)


def recording_or_audio(recording_url: AnyHttpUrl | None, audio_id: int | None) -> AnyHttpUrl | None:
    """A request's recording: its URL, or its audio's stand-in; ValueError for both."""
    if audio_id is None:
        return recording_url
    if recording_url is not None:
        raise ValueError("recording_url or audio_id, not both")
    return AnyHttpUrl(pending_url(audio_id))
