"""A call script: named steps that say, play, ask, transfer, opt out and hang up, checked as a
graph before any call (every target exists, every step is reachable, no loop that nobody can
leave, an opt-out only on a key pressed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from dialer.audio.refs import pending_url
from dialer.bounds import MAX_ID

__all__ = [
    "KEYS",
    "MAX_STEPS",
    "Choice",
    "Retry",
    "Script",
    "Step",
    "StepKind",
    "Voicemail",
]

MAX_STEPS = 50
# What a phone's keypad sends.
KEYS = frozenset("0123456789*#")
_NAME = r"^[A-Za-z0-9_-]{1,40}$"
_E164 = r"^\+[1-9][0-9]{6,14}$"
_TEXT_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

StepKind = Literal["say", "play", "ask", "transfer", "opt_out", "hangup"]
# In the order every other `lang` of the API names them: typing caches a Literal by its set
# of values, so the first order made is the one every error message shows.
Lang = Literal["ja", "en"]
Voice = Literal["Kate", "Kevin", "Watson"]
_ACTS: tuple[StepKind, ...] = ("ask", "transfer", "opt_out", "hangup")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Choice(_Strict):
    """A key an `ask` accepts: what the answer is recorded as, and the step it leads to."""

    label: str = Field(min_length=1, max_length=64)
    next: str = Field(pattern=_NAME)

    @field_validator("label")
    @classmethod
    def _printable(cls, label: str) -> str:
        if _CONTROL.search(label) or not label.strip():
            raise ValueError("a label is printable text")
        return label


class Retry(_Strict):
    """No key (or a key the question does not take): ask again up to `repeat` more times, then
    go to `next` (hang up if unset)."""

    repeat: int = Field(0, ge=0, le=5)
    next: str | None = Field(None, pattern=_NAME)


class _Speaks(_Strict):
    say: str | None = Field(None, min_length=1, max_length=_TEXT_CHARS)
    # A recording: its URL, or an audio of the library (POST /v1/audio) by its id.
    play: AnyHttpUrl | None = None
    audio_id: int | None = Field(None, ge=1, le=MAX_ID)
    lang: Lang | None = None
    voice: Voice | None = None

    @model_validator(mode="after")
    def _audio_is_played(self) -> Self:
        if self.audio_id is not None:
            if self.play is not None and str(self.play) != pending_url(self.audio_id):
                raise ValueError("play a URL or an audio_id, not both")
            self.play = AnyHttpUrl(pending_url(self.audio_id))
        return self


class Step(_Speaks):
    """One step: `say` or `play` something, then `next`; or `ask` a question (its `keys`);
    `transfer` the person to a number; `opt_out` (put the number on the do-not-contact list,
    saying `say` if given); `hangup` (after `say` if given)."""

    ask: str | None = Field(None, min_length=1, max_length=_TEXT_CHARS)
    keys: dict[str, Choice] | None = None
    no_input: Retry | None = None
    wrong_key: Retry | None = None
    # How long an ask waits for a key, seconds (8 unless set).
    timeout_s: int | None = Field(None, ge=1, le=60)
    transfer: str | None = Field(None, pattern=_E164)
    caller_id: str | None = Field(None, pattern=_E164)
    opt_out: Literal[True] | None = None
    hangup: Literal[True] | None = None
    next: str | None = Field(None, pattern=_NAME)

    @property
    def kind(self) -> StepKind:
        for kind in _ACTS:
            if getattr(self, kind) is not None:
                return kind
        return "play" if self.play is not None else "say"

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [k for k in _ACTS if getattr(self, k) is not None]
        if len(kinds) > 1:
            raise ValueError(f"a step is one of ask, transfer, opt_out, hangup, not {kinds}")
        if self.say is not None and self.play is not None:
            raise ValueError("a step says or plays, not both")
        if not kinds and self.say is None and self.play is None:
            raise ValueError("a step is one of say, play, ask, transfer, opt_out, hangup")
        if self.ask is not None:
            if self.say is not None or self.play is not None:
                raise ValueError("an ask speaks its own prompt: no say or play")
            if not self.keys:
                raise ValueError("an ask needs keys: the keys it accepts")
            wrong = sorted(k for k in self.keys if k not in KEYS)
            if wrong:
                raise ValueError(f"keys are single keypad keys 0-9, * and #, not {wrong}")
            if self.next is not None:
                raise ValueError("an ask leads on by its keys, no_input and wrong_key: no next")
        elif any(v is not None for v in (self.keys, self.no_input, self.wrong_key, self.timeout_s)):
            raise ValueError("keys, no_input, wrong_key and timeout_s belong to an ask")
        if self.caller_id is not None and self.transfer is None:
            raise ValueError("caller_id belongs to a transfer")
        if self.hangup is not None and self.next is not None:
            raise ValueError("a hangup ends the call: no next")
        return self

    def targets(self) -> Iterator[tuple[str, str, bool]]:
        """(field, target step, whether a key pressed leads there) for each way on."""
        if self.next is not None:
            yield "next", self.next, False
        for key, choice in (self.keys or {}).items():
            yield f"keys.{key}.next", choice.next, True
        for name in ("no_input", "wrong_key"):
            retry: Retry | None = getattr(self, name)
            if retry is not None and retry.next is not None:
                yield f"{name}.next", retry.next, False


class Voicemail(_Speaks):
    """What a machine hears after the beep (nothing: hang up on it), and a text sent to the
    number as soon as a machine answers."""

    sms: str | None = Field(None, min_length=1, max_length=660)

    @model_validator(mode="after")
    def _one_message(self) -> Self:
        if self.say is not None and self.play is not None:
            raise ValueError("voicemail says or plays, not both")
        return self


class Script(_Strict):
    start: str = Field(pattern=_NAME)
    lang: Lang | None = None
    voice: Voice | None = None
    steps: dict[str, Step] = Field(min_length=1, max_length=MAX_STEPS)
    voicemail: Voicemail | None = None

    @model_validator(mode="after")
    def _a_graph(self) -> Self:
        problems = _graph_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def questions(self) -> list[str]:
        """The names of its asks, in the order of its steps."""
        return [name for name, step in self.steps.items() if step.kind == "ask"]

    def texts(self) -> Iterator[tuple[str, str]]:
        """(where, text) for every text it speaks or sends: templates in a campaign's script."""
        for name, step in self.steps.items():
            for field in ("say", "ask"):
                text = getattr(step, field)
                if text is not None:
                    yield f"steps.{name}.{field}", text
        if self.voicemail is not None:
            for field in ("say", "sms"):
                text = getattr(self.voicemail, field)
                if text is not None:
                    yield f"voicemail.{field}", text

    def with_texts(self, texts: dict[str, str]) -> Script:
        """A copy with the texts at these places (as `texts` names them) replaced."""
        data = self.model_dump(mode="json", exclude_none=True)
        for where, text in texts.items():
            node = data
            *path, last = where.split(".")
            for part in path:
                node = node[part]
            node[last] = text
        return Script.model_validate(data)


def _graph_problems(script: Script) -> list[str]:
    names = set(script.steps)
    if any(not re.match(_NAME, name) for name in names):
        bad = sorted(n for n in names if not re.match(_NAME, n))
        return [f"steps: names are letters, digits, _ and - (1 to 40), not {bad}"]
    problems: list[str] = []
    if script.start not in names:
        problems.append(f"start: no step named {script.start!r}")
    for name, step in script.steps.items():
        for field, target, _ in step.targets():
            if target not in names:
                problems.append(f"steps.{name}.{field}: no step named {target!r}")
    if problems:
        return problems
    reached = _reachable(script, script.start)
    for name in script.steps:
        if name not in reached:
            problems.append(f"steps.{name}: unreachable from start {script.start!r}")
    for name, step in script.steps.items():
        for field, target, by_key in step.targets():
            if script.steps[target].kind == "opt_out" and not by_key:
                problems.append(
                    f"steps.{name}.{field}: an opt_out is reached only by a key pressed"
                )
    if script.steps[script.start].kind == "opt_out":
        problems.append(f"start: an opt_out is reached only by a key pressed, not {script.start!r}")
    problems.extend(_endless_loops(script))
    return problems


def _reachable(script: Script, start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for _, target, _ in script.steps[todo.pop()].targets():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _endless_loops(script: Script) -> list[str]:
    """Loops of steps that ask nothing: the call would go round them until it is cut off. (A
    loop through an ask is left by its no_input, which hangs up once its repeats are spent.)"""
    problems: list[str] = []
    done: set[str] = set()
    for first in script.steps:
        path: list[str] = []
        name: str | None = first
        while name is not None and name not in done:
            if name in path:
                loop = path[path.index(name) :]
                problems.append(f"steps.{name}: loops through {' -> '.join(loop)} without asking")
                break
            path.append(name)
            step = script.steps[name]
            name = step.next if step.kind != "ask" else None
        done.update(path)
    return problems
