"""Users' templates render in child processes: a bomb fails with a reason within its budget,
and the pool goes on rendering for everyone else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from dialer.user_templates import RenderFailed, TemplatePool

SPIN = "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}"  # noqa: E501
HUNGRY = "{{ 'a'|center(900000000) }}"


@pytest.fixture
async def pool() -> AsyncIterator[TemplatePool]:
    templates = TemplatePool(size=2, budget_s=0.5, memory_mb=128)
    yield templates
    await templates.close()


async def test_a_template_renders_with_the_contacts_variables(pool: TemplatePool) -> None:
    assert await pool.render("Hello {{ name }}", {"name": "Aiko"}) == "Hello Aiko"


@pytest.mark.parametrize(
    ("source", "kind", "words"),
    [
        ("{{ (name|length + 9)**(9**9) }}", "unsafe", "power beyond"),
        ("{{ 'a' * 10**8 }}", "unsafe", "repeated value"),
        ("{% for i in range(99999) %}x{% endfor %}", "unsafe", r"range\(\) of more than"),
        (
            "{% set ns = namespace(x=[1]) %}{% for i in range(64) %}"
            "{% set ns.x = ns.x + ns.x %}{% endfor %}",
            "unsafe",
            "beyond this template's bounds",
        ),
        ("{{ name.__class__.__mro__ }}", "unsafe", "unsafe"),
        ("{{ 1 / 0 }}", "error", "ZeroDivisionError"),
        ("{{ 2.5 ** 100000 }}", "error", "OverflowError"),
        ("{{ name|int(0) + name }}", "error", "TypeError"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "error", "RecursionError"),
        ("{{ nobody }}", "error", "'nobody' is undefined"),
    ],
)
async def test_a_bad_template_fails_with_its_reason(
    pool: TemplatePool, source: str, kind: str, words: str
) -> None:
    with pytest.raises(RenderFailed, match=words) as failed:
        await pool.render(source, {"name": "Aiko"})
    assert failed.value.kind == kind
    assert await pool.render("{{ name|trim }}", {"name": "next"}) == "next"


async def test_a_spinning_template_is_killed_at_its_budget(pool: TemplatePool) -> None:
    began = time.monotonic()
    with pytest.raises(RenderFailed, match=r"longer than its budget of 0\.5 s") as failed:
        await pool.render(SPIN, {})
    assert failed.value.bound
    assert time.monotonic() - began < 5
    assert await pool.render("{{ name|trim }}", {"name": "after"}) == "after"


async def test_a_hungry_template_meets_its_memory_limit(pool: TemplatePool) -> None:
    with pytest.raises(RenderFailed, match="more memory") as failed:
        await pool.render(HUNGRY, {})
    assert failed.value.bound
    assert await pool.render("{{ name|trim }}", {"name": "after"}) == "after"


async def test_a_long_text_is_refused_not_stored(pool: TemplatePool) -> None:
    with pytest.raises(RenderFailed, match="longer than 20000 characters"):
        await pool.render("{% for i in range(1000) %}{{ name }}{% endfor %}", {"name": "x" * 50})


async def test_others_render_while_one_child_spins(pool: TemplatePool) -> None:
    spinning = asyncio.create_task(pool.render(SPIN, {}))
    await asyncio.sleep(0.05)
    texts = [await pool.render("{{ n|trim }}", {"n": str(n)}) for n in range(20)]
    assert texts == [str(n) for n in range(20)]
    with pytest.raises(RenderFailed):
        await spinning


async def test_a_cancelled_render_leaves_no_answer_for_the_next(pool: TemplatePool) -> None:
    task = asyncio.create_task(pool.render(SPIN, {}))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for n in range(4):
        assert await pool.render("{{ n|trim }}", {"n": str(n)}) == str(n)


async def test_close_stops_every_child(pool: TemplatePool) -> None:
    await pool.render("{{ n|trim }}", {"n": "1"})
    children = list(pool._children)
    assert children
    await pool.close()
    assert all(child.process.returncode is not None for child in children)


async def test_starting_a_process_is_not_part_of_the_budget() -> None:
    # Python starts and imports Jinja2 in far more than 50 ms; the render itself takes less.
    templates = TemplatePool(size=1, budget_s=0.05)
    try:
        assert await templates.render("{{ n|trim }}", {"n": "first"}) == "first"
    finally:
        await templates.close()


async def test_a_spinning_template_is_tried_twice_then_refused(pool: TemplatePool) -> None:
    began = time.monotonic()
    with pytest.raises(RenderFailed, match="budget"):
        await pool.render(SPIN, {})
    assert time.monotonic() - began >= 2 * pool.budget_s


async def test_a_template_that_only_substitutes_renders_in_place(pool: TemplatePool) -> None:
    assert await pool.render("Hello {{ name }}, {{ time }}", {"name": "A", "time": "9"}) == (
        "Hello A, 9"
    )
    assert not pool._children
    with pytest.raises(RenderFailed, match="'time' is undefined"):
        await pool.render("Hello {{ name }}, {{ time }}", {"name": "A"})
