"""Checks a call flow before it is sent: Voxology ends a call on a flow it cannot run."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACTION_TYPES",
    "HARD_LIMIT_BYTES",
    "SOFT_LIMIT_BYTES",
    "FlowCheck",
    "InvalidFlow",
    "check_flow",
    "measured_size",
]

# Every action type the reference documents.
ACTION_TYPES = frozenset(
    {
        "COLLECT",
        "CONFERENCE",
        "DETECT",
        "DIAL",
        "FOREACH",
        "GOTO",
        "HANGUP",
        "IF",
        "LABEL",
        "PAUSE",
        "PLAY",
        "QUEUE",
        "RECORD",
        "RECORDMESSAGE",
        "REDIRECT",
        "REJECT",
        "SAY",
        "SESSIONDATA",
        "SMS",
        "STOP",
        "TRANSFER",
        "WEBHOOK",
    }
)

# Measured "with all whitespace characters removed"; kb read as 1,000 bytes, the stricter way.
HARD_LIMIT_BYTES = 81_000
SOFT_LIMIT_BYTES = 31_415

_COLLECT_CHILDREN = frozenset({"PLAY", "SAY", "PAUSE"})
_CONFERENCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_REQUIRED_EVENTS = {"DETECT": ("on_live_person", "on_voicemail")}


class InvalidFlow(ValueError):
    """A flow Voxology would refuse or could not run; `problems` says where and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FlowCheck:
    size_bytes: int
    warnings: list[str] = field(default_factory=list)


def measured_size(flow: Mapping[str, Any]) -> int:
    compact = json.dumps(flow, separators=(",", ":"), ensure_ascii=False)
    return len(re.sub(r"\s", "", compact).encode())


def _params(action: Mapping[str, Any]) -> Mapping[str, Any]:
    params = action.get("params") or {}
    return params if isinstance(params, Mapping) else {}


def _needs(*names: str) -> Callable[[Mapping[str, Any]], str | None]:
    def rule(action: Mapping[str, Any]) -> str | None:
        params = _params(action)
        missing = [n for n in names if params.get(n) in (None, "")]
        return f"params.{' and params.'.join(missing)} required" if missing else None

    return rule


_NATIVE_VOICES = frozenset({"Kate", "Kevin"})
_VOICES = _NATIVE_VOICES | {"Watson"}


def _say(action: Mapping[str, Any]) -> str | None:
    params = _params(action)
    if params.get("text") in (None, ""):
        return "params.text required"
    voice, language = params.get("voice", "Kate"), params.get("language", "english")
    if voice not in _VOICES:
        return f"params.voice is Kate, Kevin or Watson, not {voice!r}"
    if voice in _NATIVE_VOICES and language != "english":
        return f"params.voice {voice} speaks english only, not {language!r} (Watson does)"
    return None


def _play(action: Mapping[str, Any]) -> str | None:
    params = _params(action)
    return None if params.get("url") or params.get("dtmf") else "params.url or params.dtmf required"


def _conference(action: Mapping[str, Any]) -> str | None:
    name = _params(action).get("name")
    if not isinstance(name, str) or not _CONFERENCE_NAME.match(name):
        return "params.name must be letters, digits, underscores and dashes"
    return None


def _collect(action: Mapping[str, Any]) -> str | None:
    if not action.get("name"):
        return "name required: key presses come back under it"
    children = {child.get("type") for child in action.get("actions") or []}
    extra = children - _COLLECT_CHILDREN
    return (
        f"child actions may only be PLAY, SAY, PAUSE, not {sorted(map(str, extra))}"
        if extra
        else None
    )


_RULES: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "SAY": _say,
    "PLAY": _play,
    "SMS": _needs("message"),
    "GOTO": _needs("label"),
    "DIAL": _needs("no"),
    "CONFERENCE": _conference,
    "COLLECT": _collect,
}


def _nested(action: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key in ("actions", "then", "else"):
        if key in action:
            yield key, action[key]
    events = action.get("events")
    if isinstance(events, Mapping):
        for event, handlers in events.items():
            yield f"events.{event}", handlers


def _check_actions(actions: Any, where: str, problems: list[str]) -> None:
    if not isinstance(actions, list) or not actions:
        problems.append(f"{where}: a non-empty list of actions required")
        return
    for i, action in enumerate(actions):
        here = f"{where}[{i}]"
        if not isinstance(action, Mapping):
            problems.append(f"{here}: an action is an object")
            continue
        if "type" not in action and action and all(str(k).startswith("$") for k in action):
            continue  # a variable assignment, e.g. {"$nextUrl": "'sales.json'"}
        kind = action.get("type")
        if kind not in ACTION_TYPES:
            problems.append(f"{here}: unknown action type {kind!r}")
            continue
        rule = _RULES.get(str(kind))
        problem = rule(action) if rule else None
        if problem:
            problems.append(f"{here} {kind}: {problem}")
        events = action.get("events") or {}
        for event in _REQUIRED_EVENTS.get(str(kind), ()):
            if not events.get(event):
                problems.append(f"{here} {kind}: events.{event} required")
        for key, nested in _nested(action):
            _check_actions(nested, f"{here}.{key}", problems)


def check_flow(flow: Any) -> FlowCheck:
    """The flow's measured size and warnings; raises InvalidFlow with every problem found."""
    problems: list[str] = []
    if not isinstance(flow, Mapping) or set(flow) != {"actions"}:
        raise InvalidFlow(['a flow is an object with one key, "actions"'])
    _check_actions(flow["actions"], "actions", problems)
    size = measured_size(flow)
    if size > HARD_LIMIT_BYTES:
        problems.append(f"{size} bytes is over Voxology's hard limit of {HARD_LIMIT_BYTES}")
    if problems:
        raise InvalidFlow(problems)
    warnings = (
        [f"{size} bytes is over Voxology's soft limit of {SOFT_LIMIT_BYTES}"]
        if (size > SOFT_LIMIT_BYTES)
        else []
    )
    return FlowCheck(size_bytes=size, warnings=warnings)
