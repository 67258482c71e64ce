"""Users' templates rendered in child processes with a time budget and a memory limit, so that no
template can stall the event loop, exhaust the machine, or stop a worker that must go on.

A template that only substitutes variables renders in place, in proportion to its values; any
other waits for an idle child, sends one JSON line, and waits at most the budget for the
answer; past it the child is killed (SIGKILL: a busy interpreter may never see SIGTERM) and a
fresh one takes its place on the next render.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

from dialer.templating import TemplateProblem, is_substitution, render_text

__all__ = ["RenderFailed", "RendererUnavailable", "TemplatePool"]

log = logging.getLogger(__name__)

# Starting Python and importing Jinja2 on a loaded machine; not part of any render's budget.
_STARTUP_S = 60.0
_KINDS: frozenset[str] = frozenset({"budget", "unsafe", "error"})
# One answer line: the text is bounded (dialer.templating.MAX_OUTPUT_CHARS), escaped to ASCII.
_LINE_LIMIT = 1 << 20


FailureKind = Literal["budget", "unsafe", "error"]


@dataclass(frozen=True)
class RenderFailed(Exception):
    """The template did not render: `reason` says why, `kind` what sort of failure it was:
    - budget: past its time budget or memory limit (the template's fault, costly every time);
    - unsafe: refused by the sandbox (an unsafe access, a value beyond the bounds);
    - error: anything else, such as a variable that does not fit the arithmetic done on it."""

    reason: str
    kind: FailureKind = "error"
    timed_out: bool = False

    @property
    def bound(self) -> bool:
        return self.kind == "budget"

    def __str__(self) -> str:
        return self.reason


class RendererUnavailable(RuntimeError):
    """No process to render in (the machine could not start one): nobody's template is at
    fault, and the work should be tried again later."""


class _Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def kill(self) -> None:
        if self.alive:
            with suppress(ProcessLookupError):
                self.process.kill()
        with suppress(ProcessLookupError):
            await self.process.wait()


class TemplatePool:
    """Up to `size` child processes, started on first use."""

    def __init__(self, *, size: int = 2, budget_s: float = 2.0, memory_mb: int = 256) -> None:
        self.size = size
        self.budget_s = budget_s
        self.memory_bytes = memory_mb * 1024 * 1024
        self._idle: asyncio.Queue[_Child | None] | None = None
        self._children: set[_Child] = set()

    def _queue(self) -> asyncio.Queue[_Child | None]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self.size):
                self._idle.put_nowait(None)  # a place for a child not started yet
        return self._idle

    async def _start(self) -> _Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dialer.user_templates.child",
            str(self.memory_bytes),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
        )
        child = _Child(process)
        self._children.add(child)
        assert process.stdout is not None
        try:
            ready = await asyncio.wait_for(process.stdout.readline(), _STARTUP_S)
        except TimeoutError:
            ready = b""
        if not ready.startswith(b'{"ready"'):
            await self._retire(child)
            raise RendererUnavailable("the template renderer did not start")
        return child

    async def render(self, source: str, context: Mapping[str, object]) -> str:
        """The rendered text; RenderFailed with the reason if the template cannot give one.
        A render past its time budget is tried once more in a fresh process, so that a machine
        too busy to schedule the first is not taken for a template that spins."""
        if is_substitution(source):
            # Nothing to bound but the values, and they are: no process needed.
            try:
                return render_text(source, context)
            except TemplateProblem as exc:
                raise RenderFailed(str(exc)[:500]) from exc
        try:
            return await self._render_once(source, context)
        except RenderFailed as exc:
            if not exc.timed_out:
                raise
            log.warning("a template ran past its budget; trying it once more: %s", source[:80])
        return await self._render_once(source, context)

    async def _render_once(self, source: str, context: Mapping[str, object]) -> str:
        idle = self._queue()
        child = await idle.get()
        try:
            if child is None or not child.alive:
                child = await self._start()
            return await self._ask(child, source, context)
        except RenderFailed as exc:
            if exc.bound and child is not None:
                await self._retire(child)
                child = None
            raise
        except BaseException:
            # Cancelled mid-request, say: its answer would be read as the next one's.
            if child is not None:
                await self._retire(child)
                child = None
            raise
        finally:
            idle.put_nowait(child)

    async def _ask(self, child: _Child, source: str, context: Mapping[str, object]) -> str:
        assert child.process.stdin is not None and child.process.stdout is not None
        request = json.dumps({"source": source, "context": dict(context)}, default=str)
        child.process.stdin.write(request.encode() + b"\n")
        try:
            await child.process.stdin.drain()
            line = await asyncio.wait_for(child.process.stdout.readline(), self.budget_s)
        except TimeoutError:
            raise RenderFailed(
                f"the template took longer than its budget of {self.budget_s:g} s",
                kind="budget",
                timed_out=True,
            ) from None
        except (ConnectionError, asyncio.LimitOverrunError, ValueError) as exc:
            raise RenderFailed(f"the template's renderer failed: {exc}", kind="budget") from exc
        if not line:
            # Killed by the kernel (its memory limit reached outside Python), or crashed.
            raise RenderFailed("the template's renderer stopped while rendering it", kind="budget")
        reply = json.loads(line)
        if "text" in reply:
            return str(reply["text"])
        kind = reply.get("kind")
        raise RenderFailed(str(reply["problem"]), kind if kind in _KINDS else "error")

    async def _retire(self, child: _Child) -> None:
        self._children.discard(child)
        await child.kill()

    async def close(self) -> None:
        for child in list(self._children):
            await self._retire(child)
        self._idle = None
