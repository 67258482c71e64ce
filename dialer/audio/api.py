"""/v1/audio: the audio library; /audio/<id>/<name>.mp3: its files, for the providers to fetch
(no key: the name holds a random part)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from dialer.audio import service
from dialer.audio.schemas import AudioPublic
from dialer.bounds import RowId
from dialer.config import Settings
from dialer.deps import ApiKeyDep, ReadSessionDep, RuntimeDep, SessionDep
from dialer.errors import NotFound
from dialer.models import Audio
from dialer.providers.capabilities import known_providers
from dialer.responses import problems

__all__ = ["files_router", "router"]

router = APIRouter(prefix="/v1/audio", tags=["audio"])
files_router = APIRouter(tags=["audio"], include_in_schema=False)


def _public(settings: Settings, audio: Audio) -> AudioPublic:
    urls = {p: service.audio_url(settings, audio, p) for p in sorted(known_providers())}
    return AudioPublic.of(audio, urls)


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(413))
async def upload(
    runtime: RuntimeDep,
    session: SessionDep,
    _key: ApiKeyDep,
    file: Annotated[UploadFile, File(description="An MP3 file")],
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> AudioPublic:
    """Add an MP3 to the library: checked to be MP3 audio (MPEG Layer III frames) within
    DIALER_AUDIO_MAX_BYTES and DIALER_AUDIO_MAX_S, its length recorded."""
    settings = runtime.settings
    checked = await run_in_threadpool(service.check_upload, settings, file.file)
    stem = name or (file.filename or "audio").rsplit(".", 1)[0]
    audio = await service.keep_upload(session, settings, checked, stem, file.filename)
    return _public(settings, audio)


@router.get("")
async def list_audio(
    runtime: RuntimeDep, session: ReadSessionDep, _key: ApiKeyDep
) -> list[AudioPublic]:
    """Every audio, newest first."""
    return [_public(runtime.settings, a) for a in await service.list_audio(session)]


@router.get("/{audio_id}")
async def read_audio(
    audio_id: RowId, runtime: RuntimeDep, session: ReadSessionDep, _key: ApiKeyDep
) -> AudioPublic:
    return _public(runtime.settings, await service.get_audio(session, audio_id))


@router.delete("/{audio_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(409))
async def delete(
    audio_id: RowId, runtime: RuntimeDep, session: SessionDep, _key: ApiKeyDep
) -> Response:
    """Remove it and its file: refused (409) while a campaign that can still dial plays it."""
    await service.delete_audio(session, runtime.settings, audio_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@files_router.get("/audio/{audio_id}/{name}")
async def audio_file(
    audio_id: RowId, name: str, runtime: RuntimeDep, session: ReadSessionDep
) -> FileResponse:
    audio = await service.find_audio(session, audio_id)
    path = service.audio_path(runtime.settings, audio_id)
    if audio is None or name != service.file_name(audio) or not path.is_file():
        raise NotFound("no such audio file")
    return FileResponse(path, media_type="audio/mpeg")
