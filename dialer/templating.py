"""The one Jinja2 environment: sandboxed, StrictUndefined, for our templates and users' alike.

Operators and `range` are bounded so that the common bombs (`'a' * 10**8`, `9**9**9`, a list
doubled in a loop) fail at once with a reason; what the bounds cannot see (loops that only
spin, a filter asked for a gigabyte) is left to the process a user's template renders in
(dialer.user_templates), which has a time budget and a memory limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sized
from functools import lru_cache
from typing import Any, cast

from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg, pass_context

from dialer.resources import resource_dir

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_RANGE",
    "MAX_VALUE_LENGTH",
    "TEMPLATES_DIR",
    "BoundedEnvironment",
    "TemplateProblem",
    "environment",
    "is_substitution",
    "render_file",
    "render_text",
    "template_variables",
]

TEMPLATES_DIR = resource_dir("templates")

# No text we send is longer than a few thousand characters; these leave room and no more.
MAX_OUTPUT_CHARS = 20_000
MAX_VALUE_LENGTH = 20_000
MAX_RANGE = 1_000
_MAX_INT_BITS = 128


class TemplateProblem(ValueError):
    """A template that cannot be rendered: a missing variable, bad syntax, an unsafe access, or
    a value or text beyond its bounds."""


def _too_big(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value.bit_length() > _MAX_INT_BITS
    return isinstance(value, (str, bytes, list, tuple, dict, set)) and len(value) > MAX_VALUE_LENGTH


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() of more than {MAX_RANGE} items")
    return numbers


def _power_bits(base: Any, exponent: Any) -> int:
    """About how many bits `base ** exponent` would have, for integers."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        return max(base.bit_length(), 1) * exponent
    return 0


def _repeat_length(left: Any, right: Any) -> int:
    """The length `left * right` would have, for a sequence times a count."""
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, Sized) and isinstance(count, int) and not isinstance(seq, int):
            return len(seq) * max(count, 0)
    return 0


def _at_render_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` as a filter or test Jinja2 cannot evaluate at compile time."""
    kind = _PassArg.from_obj(function)
    if kind is _PassArg.context:
        return function

    @pass_context
    def at_render(context: Context, *args: Any, **kwargs: Any) -> Any:
        if kind is _PassArg.environment:
            return function(context.environment, *args, **kwargs)
        if kind is _PassArg.eval_context:
            return function(context.eval_ctx, *args, **kwargs)
        return function(*args, **kwargs)

    return at_render


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox, with every arithmetic operator checked before and after it runs."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        # Jinja2 folds a filter or test with constant arguments while it compiles, wherever
        # that is (the web process, when it reads a template's variables): as context
        # functions, they run only when a template renders, inside its bounds.
        self.filters = {name: _at_render_only(f) for name, f in self.filters.items()}
        self.tests = {
            name: _at_render_only(cast(Callable[..., Any], f)) for name, f in self.tests.items()
        }

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        # Every result is checked, so operands are small; only these two can explode at once.
        if operator_ == "**" and _power_bits(left, right) > _MAX_INT_BITS:
            raise SecurityError("a power beyond this template's bounds")
        if operator_ == "*" and _repeat_length(left, right) > MAX_VALUE_LENGTH:
            raise SecurityError(f"a repeated value of more than {MAX_VALUE_LENGTH} items")
        if operator_ == "%" and isinstance(left, str):
            # printf-style widths ("%*s") would allocate whatever they are asked for.
            raise SecurityError("string formatting with % is not allowed: use ~ or format")
        result = super().call_binop(context, operator_, left, right)
        if _too_big(result):
            raise SecurityError("a value beyond this template's bounds")
        return result


@lru_cache
def environment() -> BoundedEnvironment:
    # No HTML escaping: these render speech, SMS text and JSON call flows, never HTML pages.
    return BoundedEnvironment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


@lru_cache(maxsize=256)
def _compiled(source: str) -> Template:
    # A campaign renders one template for every contact: compiling it is 99% of the work.
    return environment().from_string(source)


def _bounded_output(template: Template, context: Mapping[str, Any]) -> str:
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise SecurityError(f"the text is longer than {MAX_OUTPUT_CHARS} characters")
        chunks.append(chunk)
    return "".join(chunks).strip()


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """Render a template string, within the environment's bounds but with no time budget: a
    user's template goes through dialer.user_templates, which adds one."""
    try:
        return _bounded_output(_compiled(source), context)
    except TemplateProblem:
        raise
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
        # A user's template doing arithmetic or indexing on a contact's data: that contact's
        # problem, reported as such, never a crash of the job that rendered it.
        raise TemplateProblem(f"{type(exc).__name__}: {exc}") from exc


def render_file(name: str, context: Mapping[str, Any]) -> str:
    """Render one of the templates in templates/."""
    try:
        return _bounded_output(environment().get_template(name), context)
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc


def template_variables(source: str) -> frozenset[str]:
    """The variables a user-supplied template needs from each contact; bad syntax is a problem."""
    try:
        return frozenset(meta.find_undeclared_variables(environment().parse(source)))
    except TemplateError as exc:
        raise TemplateProblem(str(exc)) from exc
    except RecursionError as exc:
        raise TemplateProblem("the template is nested too deeply") from exc


# Nodes a template that only puts values into text is made of.
_SUBSTITUTION_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const)


@lru_cache(maxsize=256)
def is_substitution(source: str) -> bool:
    """Whether the template only substitutes variables into text: no loop, call, filter or
    operator, so that rendering it takes time and memory in proportion to its values."""
    try:
        tree = environment().parse(source)
    except (TemplateError, RecursionError):
        return False
    return all(isinstance(node, _SUBSTITUTION_NODES) for node in tree.find_all(nodes.Node))
