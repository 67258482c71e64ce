"""Rendering the console's pages: its own autoescaping Jinja2 environment (user templates have
the sandboxed one in dialer.templating), the filters the pages share, and the headers every
page carries."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["SECURITY_HEADERS", "render", "render_fragment"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Scripts and styles only from our own /static: no inline script, no eval, nothing from
# elsewhere; no framing, no referrer outside, nothing cached (the pages show people's numbers).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: datetime | None, zone: str, seconds: bool = False, short: bool = False) -> str:
    """A moment in the console's zone; `short`: the time alone when it is today."""
    if value is None:
        return "\u2013"
    shown = value.astimezone(ZoneInfo(zone))
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if short and shown.date() == datetime.now(ZoneInfo(zone)).date():
        return shown.strftime(clock)
    return shown.strftime(f"%Y-%m-%d {clock}")


def _limit_label(name: str) -> str:
    """A pacing limit's name for people: `xoxzo:<account>:calls` -> `xoxzo calls (account)`."""
    parts = name.split(":")
    if parts[0] == "campaign":
        return "this campaign"
    if len(parts) == 3:
        return f"{parts[0]} {parts[2]} (account)"
    return name


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "\u2013"
    return f"{value:,.{digits}f}"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["number"] = _number
    environment.filters["limit_label"] = _limit_label
    environment.globals["when"] = _when
    return environment


def render_fragment(name: str, context: dict[str, Any]) -> str:
    return _environment().get_template(name).render(context)


def render(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return HTMLResponse(render_fragment(name, context), status, headers=SECURITY_HEADERS)
