"""Call flows rendered from templates/flows with a typed context each, checked before use."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import AnyHttpUrl, BaseModel, Field

from dialer.flows.validate import FlowCheck, InvalidFlow, check_flow
from dialer.templating import render_file

__all__ = [
    "ConferenceFlow",
    "FlowContext",
    "Recording",
    "RenderedFlow",
    "SayFlow",
    "Speech",
    "TransferFlow",
    "render_flow",
    "speech",
]

log = logging.getLogger(__name__)


class Speech(BaseModel):
    kind: Literal["speech"] = "speech"
    text: str = Field(min_length=1)
    language: str = "english"
    voice: str = "Kate"


# Voxology's own voices speak English; other languages go through IBM Watson.
_VOICES = {"en": ("english", "Kate"), "ja": ("japanese", "Watson")}


def speech(text: str, lang: str | None) -> Speech:
    """`text` spoken in `lang` (ja or en; English for anything else)."""
    language, voice = _VOICES.get(lang or "en", _VOICES["en"])
    return Speech(text=text, language=language, voice=voice)


class Recording(BaseModel):
    kind: Literal["recording"] = "recording"
    url: AnyHttpUrl


Message = Speech | Recording


class FlowContext(BaseModel):
    template: ClassVar[str]


class SayFlow(FlowContext):
    template: ClassVar[str] = "flows/say.json.j2"
    message: Message


class TransferFlow(FlowContext):
    """Connect the caller to another number, showing `caller_id` (theirs when unset)."""

    template: ClassVar[str] = "flows/transfer.json.j2"
    to: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")
    caller_id: str | None = Field(None, pattern=r"^\+[1-9][0-9]{6,14}$")


class ConferenceFlow(FlowContext):
    template: ClassVar[str] = "flows/conference.json.j2"
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    greeting: Message | None = None
    max_participants: int = Field(3, ge=2, le=100)


@dataclass(frozen=True)
class RenderedFlow:
    flow: dict[str, Any]
    check: FlowCheck


def render_flow(context: FlowContext) -> RenderedFlow:
    """The flow as Voxology will get it; raises InvalidFlow rather than send a bad one."""
    text = render_file(context.template, context.model_dump(mode="json"))
    try:
        flow = json.loads(text)
    except ValueError as exc:
        raise InvalidFlow([f"{context.template} did not render to JSON: {exc}"]) from exc
    check = check_flow(flow)
    for warning in check.warnings:
        log.warning("%s: %s", context.template, warning)
    return RenderedFlow(flow=flow, check=check)
