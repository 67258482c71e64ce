"""The audio library's files and rows: an upload checked and kept, the URL each provider plays
it from, and a file refused deletion while a campaign that can still dial uses it."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import sqlalchemy as sa
from pydantic import AnyHttpUrl
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.audio.mp3 import NotMp3, read_mp3
from dialer.audio.refs import pending_ids, swap_pending
from dialer.config import Settings
from dialer.errors import Conflict, FieldError, NotFound
from dialer.models import Audio, Campaign
from dialer.providers.capabilities import capabilities_of
from dialer.vocabulary import CampaignStatus

__all__ = [
    "AudioInUse",
    "Checked",
    "PlaysAudio",
    "audio_path",
    "audio_url",
    "check_upload",
    "delete_audio",
    "file_name",
    "find_audio",
    "get_audio",
    "give_audio_urls",
    "keep_upload",
    "list_audio",
    "slug",
]

# A campaign in one of these may still dial, and play what it names.
_LIVE = (
    CampaignStatus.draft,
    CampaignStatus.scheduled,
    CampaignStatus.running,
    CampaignStatus.paused,
)
_CHUNK = 64 * 1024


class AudioInUse(Conflict):
    """A campaign that can still dial plays this audio."""


def slug(name: str) -> str:
    """A name made fit for a URL path by Xoxzo's rule: letters, digits, _ and -."""
    made = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:48]
    return made or "audio"


def file_name(audio: Audio) -> str:
    return f"{audio.name}-{audio.key}.mp3"


def audio_path(settings: Settings, audio_id: int) -> Path:
    return settings.audio_dir / f"{audio_id}.mp3"


def audio_url(settings: Settings, audio: Audio, provider: str) -> str:
    """Where `provider` fetches the file: this service's public URL, over a scheme the provider
    plays from (Xoxzo: http only)."""
    base = settings.public_url.rstrip("/")
    schemes = capabilities_of(provider).recording_schemes
    scheme, _, rest = base.partition("://")
    if scheme not in schemes:
        scheme = sorted(schemes)[0]
    return f"{scheme}://{rest}/audio/{audio.id}/{file_name(audio)}"


class Checked:
    """An upload copied to a temporary file in the audio directory and found to be MP3 audio."""

    def __init__(self, path: Path, size: int, duration_s: float, sha256: str) -> None:
        self.path, self.size, self.duration_s, self.sha256 = path, size, duration_s, sha256


def check_upload(settings: Settings, stream: BinaryIO) -> Checked:
    """Copy the upload aside, at most audio_max_bytes, and read it as MP3; FieldError on `file`
    for anything else (too big, not MP3, too long). Blocking: run it in a thread."""
    settings.audio_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, name = tempfile.mkstemp(dir=settings.audio_dir, suffix=".part")
    path = Path(name)
    try:
        size = 0
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > settings.audio_max_bytes:
                    raise FieldError("file", f"over {settings.audio_max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
        with path.open("rb") as data:
            try:
                mp3 = read_mp3(data)
            except NotMp3 as exc:
                raise FieldError("file", f"not an MP3 file: {exc}") from exc
        if mp3.duration_s > settings.audio_max_s:
            raise FieldError(
                "file", f"plays {mp3.duration_s:.0f} s: longer than {settings.audio_max_s:.0f} s"
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Checked(path, size, round(mp3.duration_s, 3), digest.hexdigest())


async def keep_upload(
    session: AsyncSession, settings: Settings, checked: Checked, name: str, filename: str | None
) -> Audio:
    """The row for a checked upload, its file moved into place."""
    audio = Audio(
        name=slug(name),
        key=secrets.token_hex(8),
        filename=(filename or "")[:255] or None,
        size_bytes=checked.size,
        duration_s=checked.duration_s,
        sha256=checked.sha256,
    )
    session.add(audio)
    await session.flush()
    assert audio.id is not None
    shutil.move(checked.path, audio_path(settings, audio.id))
    return audio


async def list_audio(session: AsyncSession, limit: int = 1000) -> list[Audio]:
    """The library, newest first."""
    return list(
        (await session.exec(select(Audio).order_by(col(Audio.id).desc()).limit(limit))).all()
    )


async def find_audio(session: AsyncSession, audio_id: int) -> Audio | None:
    return await session.get(Audio, audio_id)


async def get_audio(session: AsyncSession, audio_id: int) -> Audio:
    audio = await find_audio(session, audio_id)
    if audio is None:
        raise NotFound(f"no audio {audio_id}")
    return audio


async def delete_audio(session: AsyncSession, settings: Settings, audio_id: int) -> None:
    """Remove it and its file; AudioInUse while a campaign that can still dial plays it."""
    audio = await get_audio(session, audio_id)
    marker = f"%/audio/{audio_id}/%"
    users = await session.exec(
        select(Campaign.id, Campaign.name)
        .where(
            col(Campaign.status).in_(_LIVE),
            sa.or_(
                col(Campaign.recording_url).like(marker),
                sa.cast(col(Campaign.script), sa.Text).like(marker),
            ),
        )
        .limit(5)
    )
    found = users.all()
    if found:
        names = ", ".join(f"{cid} ({name})" for cid, name in found)
        raise AudioInUse(f"audio {audio_id} is played by campaign(s) that can still dial: {names}")
    await session.delete(audio)
    await session.flush()
    audio_path(settings, audio_id).unlink(missing_ok=True)


class PlaysAudio(Protocol):
    """A request that may name audio of the library by id: a notification or a campaign."""

    @property
    def provider(self) -> str: ...

    recording_url: AnyHttpUrl | None
    # Its dialer.scripts.schemas.Script, if any (typed loosely: scripts imports this package).
    script: Any


async def give_audio_urls(session: AsyncSession, settings: Settings, body: PlaysAudio) -> None:
    """Each audio `body` names by id given its URL for the body's provider, in place;
    FieldError on `audio_id` for an id the library lacks."""
    script = body.script.model_dump(mode="json", exclude_none=True) if body.script else None
    recording = str(body.recording_url) if body.recording_url else None
    url, script = await _resolve_audio(session, settings, body.provider, recording, script)
    body.recording_url = AnyHttpUrl(url) if url else None
    body.script = body.script.model_validate(script) if script else None


async def _resolve_audio(
    session: AsyncSession,
    settings: Settings,
    provider: str,
    recording_url: str | None,
    script: dict[str, Any] | None,
) -> tuple[str | None, dict[str, Any] | None]:
    """The recording URL and script (as JSON) of a request with each audio it names by id
    given its URL for `provider`; FieldError on `audio_id` for an id the library lacks."""
    ids = pending_ids(recording_url or "")
    parts: list[dict[str, Any]] = []
    if script is not None:
        parts = [
            *script.get("steps", {}).values(),
            *([script["voicemail"]] if script.get("voicemail") else []),
        ]
        ids |= {int(p["audio_id"]) for p in parts if p.get("audio_id") is not None}
    if not ids:
        return recording_url, script
    found = {
        a.id: a for a in (await session.exec(select(Audio).where(col(Audio.id).in_(ids)))).all()
    }
    missing = sorted(ids - set(found))
    if missing:
        raise FieldError("audio_id", f"no audio {', '.join(map(str, missing))} in the library")
    urls = {i: audio_url(settings, a, provider) for i, a in found.items() if i is not None}
    for part in parts:
        if part.get("audio_id") is not None:
            part["play"] = urls[int(part.pop("audio_id"))]
    return (swap_pending(recording_url, urls) if recording_url else None), script
