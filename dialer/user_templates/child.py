"""The process a user's template renders in: `python -m dialer.user_templates.child BYTES`.

It caps its own address space at start, says {"ready": true}, then answers one JSON line per
request on stdout:
{"text": ...} or {"problem": ..., "kind": "budget"|"unsafe"|"error"}. A render that runs past
its time budget is not its concern: the parent kills the process and starts another.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

from jinja2.exceptions import SecurityError

from dialer.templating import TemplateProblem, render_text

__all__ = ["answer", "main"]


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request; never raises for anything the template does."""
    try:
        return {"text": render_text(str(request["source"]), dict(request["context"]))}
    except TemplateProblem as exc:
        kind = "unsafe" if isinstance(exc.__cause__, SecurityError) else "error"
        return {"problem": str(exc)[:500], "kind": kind}
    except MemoryError:
        return {"problem": "the template needed more memory than it is allowed", "kind": "budget"}


def main() -> None:
    extra = int(sys.argv[1])
    if extra > 0:
        limit = _address_space() + extra
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Imports done and limits set: from here on, the parent's time budget is about rendering.
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin.buffer:
        reply = answer(json.loads(line))
        sys.stdout.write(json.dumps(reply, ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
