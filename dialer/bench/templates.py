"""`dialer bench templates`: what rendering users' templates in their own processes costs, against
rendering them in-process (the baseline, unbounded in time and memory) in the same run; and how
long one spinning template holds a render process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import asdict, dataclass

from dialer.templating import render_text
from dialer.user_templates import RenderFailed, TemplatePool

__all__ = ["TemplateFigures", "run_template_bench"]

# A filter: not a plain substitution, so it renders in a process (a plain one renders in place).
TEMPLATE = "{{ name|trim }}様、明日{{ time }}のご予約です。Press 1 to confirm, {{ name }}."
PLAIN = "{{ name }}様、明日{{ time }}のご予約です。Press 1 to confirm, {{ name }}."
SPIN = (
    "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)


@dataclass(frozen=True)
class TemplateFigures:
    renders: int
    in_process_per_s: float
    plain_per_s: float
    pool_per_s: float
    pool_concurrent_per_s: float
    ratio: float
    spin_held_s: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _contexts(renders: int) -> list[dict[str, str]]:
    return [{"name": f"Person {i}", "time": f"{9 + i % 8}:00"} for i in range(renders)]


async def _bench(renders: int, processes: int) -> TemplateFigures:
    contexts = _contexts(renders)
    started = time.perf_counter()
    for context in contexts:
        render_text(TEMPLATE, context)
    in_process = renders / (time.perf_counter() - started)

    pool = TemplatePool(size=processes, budget_s=2.0)
    try:
        started = time.perf_counter()
        for context in contexts:
            await pool.render(PLAIN, context)
        plain = renders / (time.perf_counter() - started)
        await pool.render(TEMPLATE, contexts[0])  # the processes' start is not the render's
        started = time.perf_counter()
        for context in contexts:
            await pool.render(TEMPLATE, context)
        one_by_one = renders / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(pool.render(TEMPLATE, c) for c in contexts))
        concurrent = renders / (time.perf_counter() - started)
        started = time.perf_counter()
        with contextlib.suppress(RenderFailed):
            await pool.render(SPIN, {})
        spin = time.perf_counter() - started
    finally:
        await pool.close()
    return TemplateFigures(
        renders=renders,
        in_process_per_s=round(in_process, 1),
        plain_per_s=round(plain, 1),
        pool_per_s=round(one_by_one, 1),
        pool_concurrent_per_s=round(concurrent, 1),
        ratio=round(concurrent / in_process, 4),
        spin_held_s=round(spin, 2),
    )


def run_template_bench(renders: int, processes: int) -> TemplateFigures:
    return asyncio.run(_bench(renders, processes))
