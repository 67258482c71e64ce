"""The one Jinja2 environment: sandboxed, StrictUndefined, for our templates and users' alike."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "TEMPLATES_DIR",
    "TemplateProblem",
    "environment",
    "render_file",
    "render_text",
    "template_variables",
]

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class TemplateProblem(ValueError):
    """A template that cannot be rendered: a missing variable, bad syntax, or an unsafe access."""


@lru_cache
def environment() -> SandboxedEnvironment:
    # No HTML escaping: these render speech, SMS text and JSON call flows, never HTML pages.
    return SandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # A campaign renders one template for every contact: compiling it is 99% of the work.
    return environment().from_string(source)


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """Render a user-supplied template string."""
    try:
        return _compiled(source).render(**context).strip()
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def render_file(name: str, context: Mapping[str, Any]) -> str:
    """Render one of the templates in templates/."""
    try:
        return environment().get_template(name).render(**context).strip()
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def template_variables(source: str) -> frozenset[str]:
    """The variables a user-supplied template needs from each contact; bad syntax is a problem."""
    try:
        return frozenset(meta.find_undeclared_variables(environment().parse(source)))
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc
