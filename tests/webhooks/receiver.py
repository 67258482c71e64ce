"""A client's webhook receiver on a port of its own: it keeps what it is sent, and can be down
(answering 503) or hang."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

README = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def readme_verify() -> Any:
    """The `verify` function exactly as docs/api.md documents it."""
    text = README.read_text()
    code = re.search(r"<!-- webhook-verify -->\n```python\n(.*?)```", text, re.S)
    assert code is not None, "docs/api.md has no webhook-verify snippet"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/api.md", "exec"), namespace)
    return namespace["verify"]


@dataclass
class Received:
    event_id: str
    kind: str
    signature: str
    body: bytes
    user_agent: str = ""


@dataclass
class Receiver:
    down: bool = False
    hang: asyncio.Event | None = None
    taken: list[Received] = field(default_factory=list)
    refused: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/events")
        async def events(request: Request) -> Response:
            if self.hang is not None:
                await self.hang.wait()
            if self.down:
                self.refused += 1
                return Response(status_code=503)
            self.taken.append(
                Received(
                    event_id=request.headers["X-Dialer-Event-Id"],
                    kind=request.headers["X-Dialer-Event"],
                    signature=request.headers["X-Dialer-Signature"],
                    body=await request.body(),
                    user_agent=request.headers.get("User-Agent", ""),
                )
            )
            return Response(status_code=204)

        return app

    def kinds(self) -> list[str]:
        return sorted(r.kind for r in self.taken)
