"""A call script as Voxology call flows, one callback-response loop at a time: each flow plays
the steps from where the call is up to the next question (a COLLECT) or transfer, after marking
the call's session_data with where it stopped, so that the next callback says which question its
keys answer. The first flow wraps this in DETECT when the call detects machines.

Built in Python rather than from templates/flows: a walk over the script's graph."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dialer.flows.render import speech
from dialer.flows.validate import SOFT_LIMIT_BYTES, FlowCheck, InvalidFlow, check_flow
from dialer.scripts.schemas import Script, Step, Voicemail
from dialer.scripts.walk import marker

__all__ = [
    "SAMPLE_SESSION",
    "TRANSFER_EVENT",
    "ScriptCheck",
    "ScriptFlow",
    "check_script",
    "script_flow",
    "script_segment",
]

# How long an ask waits for a key unless it says.
ASK_TIMEOUT_S = 8
# The WEBHOOK event a transfer step sends as it starts: the call's duration then times it.
TRANSFER_EVENT = "transfer"


@dataclass(frozen=True)
class ScriptFlow:
    flow: dict[str, Any]
    check: FlowCheck
    # The flow passes an opt_out step: the number goes on the list as it is served.
    opts_out: bool


def _speak(script: Script, part: Step | Voicemail, lang: str | None) -> dict[str, Any] | None:
    if part.play is not None:
        return {"type": "PLAY", "params": {"url": str(part.play)}}
    text = part.ask if isinstance(part, Step) and part.ask is not None else part.say
    if text is None:
        return None
    said = speech(text, part.lang or script.lang or lang)
    voice = part.voice or script.voice
    params: dict[str, Any] = {"text": said.text, "language": said.language, "voice": said.voice}
    if voice is not None and voice != said.voice:
        params["voice"] = voice
        if voice == "Watson" and said.language == "english":
            params["language"] = "englishUS"
    return {"type": "SAY", "params": params}


def script_segment(
    script: Script,
    first: str | None,
    visits: Counter[str],
    session: Mapping[str, Any],
    lang: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """The actions from step `first` to the next ask or transfer (or the end: HANGUP), and
    whether they pass an opt_out step. `session`: the call's session_data, kept in the mark."""
    actions: list[dict[str, Any]] = []
    opts_out = False
    name = first
    for _ in range(len(script.steps) + 1):
        if name is None:
            break
        step = script.steps[name]
        kind = step.kind
        spoken = _speak(script, step, lang)
        if kind == "ask":
            here = marker(name, visits[name] + 1)
            keys = step.keys or {}
            actions.append({"type": "SESSIONDATA", "session_data": {**session, "at": here}})
            actions.append(
                {
                    "name": here,
                    "type": "COLLECT",
                    "actions": [spoken] if spoken else [],
                    "params": {
                        "num_digits": 1,
                        "timeout": (step.timeout_s or ASK_TIMEOUT_S) * 1000,
                        "finish_on_key": "off" if "#" in keys else "#",
                    },
                }
            )
            return actions, opts_out
        if spoken is not None:
            actions.append(spoken)
        if kind == "opt_out":
            opts_out = True
        elif kind == "hangup":
            break
        elif kind == "transfer":
            here = marker(name, visits[name] + 1)
            transfer: dict[str, Any] = {"no": step.transfer}
            if step.caller_id is not None:
                transfer["caller_id_no"] = step.caller_id
            actions += [
                {"type": "SESSIONDATA", "session_data": {**session, "at": here}},
                {
                    "type": "WEBHOOK",
                    "params": {"event_name": TRANSFER_EVENT, "webhook_data": {"at": here}},
                },
                {"type": "TRANSFER", "params": transfer},
            ]
            return actions, opts_out
        name = step.next
    actions.append({"type": "HANGUP"})
    return actions, opts_out


def _voicemail(script: Script, lang: str | None, leave: bool) -> dict[str, list[dict[str, Any]]]:
    """A machine hears the script's voicemail after the beep, unless it is to be retried (hung
    up on at once); the voicemail's text goes as soon as a machine answers either way."""
    mail = script.voicemail
    spoken = _speak(script, mail, lang) if mail is not None else None
    early = [{"type": "SMS", "params": {"message": mail.sms}}] if mail and mail.sms else []
    events: dict[str, list[dict[str, Any]]] = {
        "on_voicemail": [*([spoken] if spoken and leave else []), {"type": "HANGUP"}]
    }
    if not leave:
        early.append({"type": "HANGUP"})
    if early:
        events["on_voicemail_early"] = early
    return events


def script_flow(
    script: Script,
    resume: str | None,
    visits: Counter[str],
    session: Mapping[str, Any],
    *,
    lang: str | None,
    detect: bool = False,
    leave_voicemail: bool = True,
    trigger_live_in_ms: int = 3000,
) -> ScriptFlow:
    """The flow that answers a callback: the segment from `resume`, inside DETECT if `detect`
    (the first flow of a call that listens for machines). Raises InvalidFlow if Voxology could
    not run it, its size included."""
    actions, opts_out = script_segment(script, resume, visits, session, lang)
    if detect:
        events = {"on_live_person": actions, **_voicemail(script, lang, leave_voicemail)}
        params = {"trigger_live_in_ms": trigger_live_in_ms}
        actions = [{"type": "DETECT", "params": params, "events": events}]
    flow = {"actions": actions}
    return ScriptFlow(flow=flow, check=check_flow(flow), opts_out=opts_out)


# A call's session_data as long as ours gets: flows are checked with it before any call.
SAMPLE_SESSION = {"attempt_id": 10**12, "token": "0" * 40, "tag": "0" * 40}


def _flow_starts(script: Script) -> list[str]:
    """Every step a flow can start from: the start, and wherever a callback can resume."""
    starts = [script.start]
    for name, step in script.steps.items():
        if step.kind == "ask":
            starts.append(name)  # asked again
        if step.kind in ("ask", "transfer"):
            starts.extend(target for field, target, _ in step.targets() if field != "next")
            if step.kind == "transfer" and step.next is not None:
                starts.append(step.next)
    return list(dict.fromkeys(starts))


@dataclass(frozen=True)
class ScriptCheck:
    # Each naming the step its flow starts at.
    problems: list[str]
    # The largest flow, as Voxology measures it (whitespace removed).
    largest_bytes: int

    @property
    def warning(self) -> str | None:
        if self.largest_bytes <= SOFT_LIMIT_BYTES:
            return None
        return f"its largest flow is {self.largest_bytes} bytes: over Voxology's soft limit"


def check_script(
    script: Script, *, lang: str | None, detect: bool, leave_voicemail: bool = True
) -> ScriptCheck:
    """Every flow the script can answer a callback with, rendered and checked as Voxology
    will run it (its size included)."""
    problems: list[str] = []
    largest = 0
    for start in _flow_starts(script):
        first = start == script.start
        try:
            made = script_flow(
                script,
                start,
                Counter(),
                SAMPLE_SESSION,
                lang=lang,
                detect=detect and first,
                leave_voicemail=leave_voicemail,
            )
        except InvalidFlow as exc:
            where = f"the flow from steps.{start}" + (" (with DETECT)" if first and detect else "")
            problems.extend(f"{where}: {problem}" for problem in exc.problems)
        else:
            largest = max(largest, made.check.size_bytes)
    return ScriptCheck(problems, largest)
