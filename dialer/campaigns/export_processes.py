"""A large campaign's results.csv, or a large import's issues.csv, made by export processes
beside the web process.

Made in the web process, a million rows of results took 16 to 22 s on SQLite: the rows' Python
work (the driver's, ours and the CSV writer's) runs one thread at a time, whatever the cores.
Here the rows' ids are cut into ranges, dealt in turn to `PROCESSES` processes
(`dialer.campaigns.export_part`), each reading its ranges with the driver alone and writing
their CSV into a pipe; the web process relays the ranges in id order, so the file is the same
byte for byte. A range is read while the one before it is sent, and a process that stops is an
error of the download, never a file cut short without one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns.results import Results
from dialer.campaigns.service import issue_query
from dialer.frames import HEADER_BYTES
from dialer.models import ImportIssue, Notification

__all__ = [
    "PARTED_FROM",
    "PROCESSES",
    "can_part",
    "id_span",
    "issue_span",
    "issues_spec",
    "parted_csv",
    "results_spec",
]

PROCESSES = 2
# Rows whose ids span fewer than this are made in the web process: starting the processes
# costs more than it saves.
PARTED_FROM = 50_000
# Ids per range: a page's worth, about 0.7 MB of CSV.
_WIDTH = 5000


async def _span(session: AsyncSession, identity: Any, owner: Any) -> tuple[int, int] | None:
    found = await session.exec(
        sa.select(sa.func.min(identity), sa.func.max(identity)).where(owner)  # type: ignore[call-overload]
    )
    low, high = found.one()
    return None if low is None else (int(low), int(high))


async def id_span(session: AsyncSession, campaign_id: int) -> tuple[int, int] | None:
    """The lowest and the highest id of the campaign's contacts, by its index; None if it has
    none."""
    return await _span(session, col(Notification.id), col(Notification.campaign_id) == campaign_id)


async def issue_span(session: AsyncSession, import_id: int) -> tuple[int, int] | None:
    """The lowest and the highest id of the import's issues, by its index; None if it has none."""
    return await _span(session, col(ImportIssue.id), col(ImportIssue.import_id) == import_id)


def can_part(sync_url: str) -> bool:
    """Whether another process can open this database: not an SQLite database in memory."""
    url = make_url(sync_url)
    if url.get_backend_name() != "sqlite":
        return True
    return url.database not in (None, "", ":memory:") and "mode=memory" not in sync_url


def _database(sync_url: str) -> dict[str, str]:
    url = make_url(sync_url)
    if url.get_backend_name() == "sqlite":
        return {"sqlite": url.database or ""}
    plain = url.set(drivername="postgresql")
    return {"postgresql": plain.render_as_string(hide_password=False)}


def _statement(statement: Any, dialect: sa.Dialect, sync_url: str) -> dict[str, Any]:
    """What an export process needs to run `statement` (bound `lo` and `hi`) on the database."""
    compiled = statement.compile(dialect=dialect)
    params = compiled.construct_params({"lo": 0, "hi": 0})
    spec: dict[str, Any] = {"database": _database(sync_url), "sql": compiled.string}
    if compiled.positional:
        order = list(compiled.positiontup or [])
        spec["params"] = [params[name] for name in order]
        spec["slots"] = {"lo": order.index("lo"), "hi": order.index("hi")}
    else:
        spec["params"] = params
    return spec


def results_spec(
    results: Results, campaign_id: int, dialect: sa.Dialect, sync_url: str
) -> dict[str, Any]:
    """What the export processes need to make a campaign's results.csv."""
    query = results.query(campaign_id, None, dialect=dialect.name)
    return {**_statement(query, dialect, sync_url), "rows": results.rows.spec()}


def issues_spec(import_id: int, dialect: sa.Dialect, sync_url: str) -> dict[str, Any]:
    """What the export processes need to make an import's issues.csv."""
    return {**_statement(issue_query(import_id, None), dialect, sync_url), "rows": "issues"}


async def parted_csv(
    spec: dict[str, Any],
    span: tuple[int, int],
    *,
    processes: int = PROCESSES,
    width: int = _WIDTH,
) -> AsyncIterator[bytes]:
    """The rows (the header not included) that `spec` makes of the ids in `span`, in id order,
    as CSV text made by `processes` export processes."""
    low, high = span
    ranges = [[lo, min(lo + width, high + 1)] for lo in range(low, high + 1, width)]
    started: list[asyncio.subprocess.Process] = []
    try:
        for n in range(min(processes, len(ranges))):
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "dialer.campaigns.export_part",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=1 << 20,
            )
            started.append(process)
            assert process.stdin is not None
            process.stdin.write(json.dumps({**spec, "ranges": ranges[n::processes]}).encode())
            await process.stdin.drain()
            process.stdin.close()
        for k in range(len(ranges)):
            yield await _frame(started[k % len(started)])
        for process in started:
            if await process.wait() != 0:
                raise RuntimeError(await _failure(process))
    finally:
        for process in started:
            if process.returncode is None:
                process.kill()
                with contextlib.suppress(Exception):
                    await process.wait()


async def _frame(process: asyncio.subprocess.Process) -> bytes:
    assert process.stdout is not None
    try:
        size = int.from_bytes(await process.stdout.readexactly(HEADER_BYTES), "big")
        return await process.stdout.readexactly(size)
    except asyncio.IncompleteReadError:
        await process.wait()
        raise RuntimeError(await _failure(process)) from None


async def _failure(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    said = (await process.stderr.read())[-2000:].decode(errors="replace")
    return f"an export process ended with {process.returncode}: {said.strip()}"
