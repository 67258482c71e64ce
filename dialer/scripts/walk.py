"""Where a call is in its script, replayed from the start with the keys it reports: the answers
given, whether it passed an opt-out or a transfer, and the step to go on from. The same keys give
the same walk, so a callback that comes twice gets the same answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from dialer.scripts.schemas import Retry, Script

__all__ = ["MAX_ASKS", "Walk", "marker", "walk"]

# Questions asked in one call, repeats included, before it is hung up on: a person pressing
# keys that lead round a loop cannot hold the line forever.
MAX_ASKS = 30
_NO_INPUT = Retry()


def marker(step: str, visit: int) -> str:
    """The name a visit to an ask (its COLLECT) or a transfer goes by in the call."""
    return step if visit == 1 else f"{step}__{visit}"


@dataclass
class Walk:
    # The label of the key pressed at each question answered, by question (step) name.
    answers: dict[str, str] = field(default_factory=dict)
    # The first question answered: the attempt's one-word answer.
    first: str | None = None
    opted_out: bool = False
    # The transfer steps the call has gone through, or is in.
    transfers: list[str] = field(default_factory=list)
    # Where the next flow starts (None: hang up), and each step's visits before it.
    resume: str | None = None
    visits: Counter[str] = field(default_factory=Counter)
    # The call's marker named no ask or transfer this script reaches with these keys.
    lost: bool = False


def walk(script: Script, presses: Mapping[str, str], at: str | None) -> Walk:
    """The call replayed up to `at` (the marker of the ask or transfer it has come back from;
    None: it is at the start), then through the steps the next flow will play: as far as the
    next ask or transfer, or the end."""
    done = Walk()
    name: str | None = script.start
    returned = at is None
    while name is not None:
        step = script.steps[name]
        kind = step.kind
        if kind in ("ask", "transfer"):
            if returned:  # the next flow stops here
                done.resume = name if done.resume is None else done.resume
                return done
            done.visits[name] += 1
            here = marker(name, done.visits[name])
            if kind == "transfer":
                done.transfers.append(name)
                following = step.next
            else:
                following = _answered(script, name, presses.get(here, ""), done)
            if here == at:
                returned = True
                done.resume = following
                if following is None:
                    return done
            elif sum(v for n, v in done.visits.items() if script.steps[n].kind == "ask") > MAX_ASKS:
                done.lost = True
                return done
            name = following
            continue
        if returned and done.resume is None:
            done.resume = name
        if kind == "opt_out":
            done.opted_out = True
        if kind == "hangup":
            break
        name = step.next
    if not returned:
        done.lost, done.resume = True, None
    return done


def _answered(script: Script, name: str, digits: str, done: Walk) -> str | None:
    """The step after this visit to ask `name`, on `digits`; the answer recorded if a key it
    takes was pressed."""
    step = script.steps[name]
    key = digits[:1]
    choice = (step.keys or {}).get(key)
    if choice is not None:
        done.answers[name] = choice.label
        done.first = done.first or choice.label
        return choice.next
    retry = (step.wrong_key or step.no_input) if key else step.no_input
    retry = retry or _NO_INPUT
    return name if done.visits[name] <= retry.repeat else retry.next
