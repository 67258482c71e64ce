"""A campaign's files as downloads, the same from the API and the console: results.csv, and
each import's issues.csv, streamed a page of rows at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import StreamingResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from dialer.campaigns import service
from dialer.campaigns.export_processes import (
    PARTED_FROM,
    can_part,
    id_span,
    issue_span,
    issues_spec,
    parted_csv,
    results_spec,
)
from dialer.campaigns.issue_rows import HEADER as ISSUES_HEADER
from dialer.campaigns.results import campaign_results
from dialer.db import read_scope
from dialer.responses import csv_response, csv_text_response
from dialer.runtime import Runtime

__all__ = ["BomQuery", "issues_download", "results_download"]

BomQuery = Annotated[
    bool,
    Query(
        description="Start the file with a UTF-8 byte-order mark, which Excel needs to read "
        "Japanese and other non-ASCII text rightly"
    ),
]


async def results_download(runtime: Runtime, campaign_id: int, *, bom: bool) -> StreamingResponse:
    async with read_scope(runtime.sessions) as session:
        await service.get_campaign(session, campaign_id)
        found = await campaign_results(session, campaign_id)
        span = await id_span(session, campaign_id)

    name = f"campaign-{campaign_id}-results.csv"
    url = runtime.settings.sync_database_url
    if _parts(span, url):
        assert span is not None
        spec = results_spec(found, campaign_id, runtime.engine.dialect, url)
        return csv_text_response(found.header, _parted(runtime, spec, span), name, bom=bom)
    pages = _streamed(runtime, lambda session: found.pages(session, campaign_id))
    return csv_response(found.header, pages, name, bom=bom, guarded=True)


async def issues_download(
    runtime: Runtime, campaign_id: int, import_id: int, *, bom: bool
) -> StreamingResponse:
    async with read_scope(runtime.sessions) as session:
        await service.get_import(session, campaign_id, import_id)
        span = await issue_span(session, import_id)

    name = f"import-{import_id}-issues.csv"
    url = runtime.settings.sync_database_url
    if _parts(span, url):
        assert span is not None
        spec = issues_spec(import_id, runtime.engine.dialect, url)
        return csv_text_response(ISSUES_HEADER, _parted(runtime, spec, span), name, bom=bom)
    pages = _streamed(runtime, lambda session: service.issue_pages(session, import_id))
    return csv_response(ISSUES_HEADER, pages, name, bom=bom, guarded=True)


def _parts(span: tuple[int, int] | None, sync_url: str) -> bool:
    """Whether rows with ids over `span` are made by export processes."""
    return span is not None and span[1] - span[0] >= PARTED_FROM and can_part(sync_url)


async def _parted(
    runtime: Runtime, spec: dict[str, Any], span: tuple[int, int]
) -> AsyncIterator[bytes]:
    """Many rows from export processes, one such export at a time: each takes as many cores as
    the machine has."""
    async with runtime.exports:
        async for chunk in parted_csv(spec, span):
            yield chunk


async def _streamed(
    runtime: Runtime, read: Callable[[AsyncSession], AsyncIterator[list[list[Any]]]]
) -> AsyncIterator[list[list[Any]]]:
    """The pages `read` gives, in a read session of their own, open only while the response
    streams."""
    async with read_scope(runtime.sessions) as session:
        async for page in read(session):
            yield page
