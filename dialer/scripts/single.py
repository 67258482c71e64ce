"""A script as one message, for a provider that plays one message per call (Xoxzo): its say
steps, in order, as one text, or its one play step as a recording."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import AnyHttpUrl

from dialer.scripts.schemas import Script

__all__ = ["OneMessage", "one_message"]

_WHY = "Xoxzo plays one message per call: a script there is say steps only, or one play step"


@dataclass(frozen=True)
class OneMessage:
    text: str | None = None
    recording_url: AnyHttpUrl | None = None


def one_message(script: Script) -> OneMessage:
    """The message the script's steps make, in order from its start; ValueError naming the
    step that makes it more than one message."""
    said: list[str] = []
    played: list[AnyHttpUrl] = []
    name: str | None = script.start
    while name is not None:
        step = script.steps[name]
        if step.kind not in ("say", "play"):
            raise ValueError(f"steps.{name}: {step.kind} is refused: {_WHY}")
        if step.play is not None:
            played.append(step.play)
        elif step.say is not None:
            said.append(step.say)
        if played and (said or len(played) > 1):
            raise ValueError(f"steps.{name}: {_WHY}")
        name = step.next
    if script.voicemail is not None:
        raise ValueError(f"voicemail: {_WHY} (it cannot tell a machine from a person)")
    return OneMessage(text=" ".join(said) or None, recording_url=played[0] if played else None)
