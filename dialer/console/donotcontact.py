"""/do-not-contact: look a number up with its history, add and remove numbers, import and export
the list as CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from dialer.bounds import MAX_ID
from dialer.console.auth import AdminDep, Operator, OperatorDep
from dialer.console.pages import render
from dialer.db import read_scope, session_scope
from dialer.deps import RuntimeDep
from dialer.errors import FieldError
from dialer.optouts import service
from dialer.optouts.transfer import EXPORT_HEADER, ImportReport, exported_rows, import_numbers
from dialer.phone import InvalidNumber, to_e164
from dialer.responses import csv_response
from dialer.runtime import Runtime

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE = 50
SOURCE = "console"


async def _page(
    runtime: Runtime,
    operator: Operator,
    *,
    number: str = "",
    before: int | None = None,
    problem: str | None = None,
    notice: str | None = None,
    report: ImportReport | None = None,
    status: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "operator": operator,
        "section": "do-not-contact",
        "zone": runtime.settings.console_timezone,
        "number": number,
        "found": None,
        "problem": problem,
        "notice": notice,
        "report": report,
    }
    async with read_scope(runtime.sessions) as session:
        if number and problem is None:
            try:
                e164 = to_e164(number, runtime.settings.default_region)
            except (InvalidNumber, ValueError) as exc:
                context["problem"] = f"{number!r} is not a phone number: {exc}"
                status = 422
            else:
                context["found"] = {
                    "number": e164,
                    "entries": await service.entries_for(session, e164),
                    "history": await service.history(session, e164),
                }
        recent = await service.recent_blocked(session, before, PAGE)
    context["recent"] = recent
    context["older"] = recent[-1].id if len(recent) == PAGE else None
    return render("donotcontact/page.html", context, status)


@router.get("/do-not-contact")
async def page(
    runtime: RuntimeDep,
    operator: OperatorDep,
    number: Annotated[str, Query(max_length=64)] = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    return await _page(runtime, operator, number=number.strip(), before=before)


def _field(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


@router.post("/do-not-contact/add")
async def add(request: Request, runtime: RuntimeDep, operator: AdminDep) -> Response:
    form = await request.form()
    raw, reason = _field(form, "number", 64), _field(form, "reason", 500)
    try:
        number = to_e164(raw, runtime.settings.default_region)
    except (InvalidNumber, ValueError) as exc:
        problem = f"{raw!r} is not a phone number: {exc}"
        return await _page(runtime, operator, problem=problem, status=422)
    async with session_scope(runtime.sessions) as session:
        already = await service.is_blocked(session, number)
        await service.block_number(session, number, source=SOURCE, reason=reason or None)
    notice = f"{number} was on the list already." if already else f"{number} is on the list."
    return await _page(runtime, operator, number=number, notice=notice)


@router.post("/do-not-contact/remove")
async def remove(request: Request, runtime: RuntimeDep, operator: AdminDep) -> Response:
    form = await request.form()
    number, reason = _field(form, "number", 64), _field(form, "reason", 500)
    async with session_scope(runtime.sessions) as session:
        removed = await service.unblock_number(
            session, number, source=SOURCE, reason=reason or None
        )
    notice = f"{number} is off the list." if removed else f"{number} was not on the list."
    return await _page(runtime, operator, number=number, notice=notice)


@router.post("/do-not-contact/import")
async def import_file(request: Request, runtime: RuntimeDep, operator: AdminDep) -> Response:
    form = await request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _page(runtime, operator, problem="Choose a CSV file.", status=422)
        region = runtime.settings.default_region
        try:
            report = await import_numbers(runtime, upload.file, SOURCE, region)
        except FieldError as exc:
            return await _page(runtime, operator, problem=exc.message, status=422)
    finally:
        await form.close()
    return await _page(runtime, operator, report=report)


@router.get("/do-not-contact.csv")
async def export(runtime: RuntimeDep, _operator: OperatorDep) -> StreamingResponse:
    return csv_response(EXPORT_HEADER, exported_rows(runtime), "do-not-contact.csv", bom=True)
