"""/campaigns/new: a campaign from a form, its CSV with it; and the preview of its message for
the first rows of that CSV while the form is being filled in."""

from __future__ import annotations

import base64
import binascii
import io
import itertools
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from dialer.campaigns.messages import text_refusal
from dialer.campaigns.setup import create_checked, import_file
from dialer.console.auth import AdminDep, ConsoleRefused, Operator, OperatorDep
from dialer.console.campaigns import ENCODINGS, campaign_view
from dialer.console.forms import (
    RETRIED,
    WEEKDAYS,
    FormValues,
    checked_body,
    field_messages,
    read_form,
)
from dialer.console.pages import SECURITY_HEADERS, render, render_fragment
from dialer.contacts.checks import row_number
from dialer.contacts.reader import CsvLayout, CsvProblem, read_rows
from dialer.db import session_scope
from dialer.deps import RuntimeDep
from dialer.errors import FieldError, FieldErrors
from dialer.runtime import Runtime
from dialer.user_templates import RenderFailed
from dialer.vocabulary import Channel

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

# The browser sends this much of the chosen file for the preview, and the preview shows these
# many of its rows.
SAMPLE_BYTES = 64 * 1024
PREVIEW_ROWS = 3


def _layout(values: dict[str, str]) -> CsvLayout:
    return CsvLayout(
        phone_column=values.get("phone_column") or None,
        encoding=values.get("encoding") or None,
    )


def _form_page(
    runtime: Runtime, operator: Operator, values: FormValues | None, problems: list[str]
) -> Response:
    shown = values or FormValues(
        {
            "name": "",
            "provider": next(iter(runtime.providers), "xoxzo"),
            "channel": "tts",
            "from": "",
            "template": "",
            "recording_url": "",
            "lang": "",
            "window_start": "09:00",
            "window_end": "20:00",
            "timezone": "",
            "holidays": "",
            "max_attempts": "3",
            "max_rate": "",
            "fallback_template": "",
            "weekdays": [str(d) for d in range(7)],
            "retry": list(RETRIED),
            "sms_fallback": False,
            **{f"retry_{o}_min": str(m) for o, m in RETRIED.items()},
        }
    )
    context = {
        "operator": operator,
        "section": "campaigns",
        "zone": runtime.settings.console_timezone,
        "values": shown,
        "problems": problems,
        "providers": sorted(runtime.providers),
        "channels": [c.value for c in Channel if c is not Channel.conference],
        "weekday_names": WEEKDAYS,
        "retried": RETRIED,
        "encodings": ENCODINGS,
        "sample_bytes": SAMPLE_BYTES,
    }
    return render("campaigns/new.html", context, 422 if problems else 200)


@router.get("/campaigns/new")
async def new_campaign_form(runtime: RuntimeDep, operator: OperatorDep) -> Response:
    if not operator.can_change:
        raise ConsoleRefused("this key's scope is viewer: it may look but not create campaigns")
    return _form_page(runtime, operator, None, [])


@router.post("/campaigns/new")
async def new_campaign(request: Request, runtime: RuntimeDep, operator: AdminDep) -> Response:
    form = await request.form()
    try:
        return await _create(runtime, operator, form)
    finally:
        await form.close()  # the upload's temporary file


async def _create(runtime: Runtime, operator: Operator, form: FormData) -> Response:
    values = read_form(form, _strings(form.getlist("weekdays")), _strings(form.getlist("retry")))
    try:
        body = checked_body(values)
        async with session_scope(runtime.sessions) as session:
            campaign = await create_checked(runtime, session, body)
        assert campaign.id is not None
    except (FieldError, FieldErrors) as exc:
        errors = exc if isinstance(exc, FieldErrors) else FieldErrors([exc])
        return _form_page(runtime, operator, values, field_messages(errors))
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        layout = _layout({k: _text(form.get(k)) for k in ("phone_column", "encoding")})
        try:
            await import_file(runtime, campaign.id, upload.file, layout, upload.filename, "file")
        except FieldError as exc:
            return await campaign_view(runtime, operator, campaign.id, exc.message, 422)
    return RedirectResponse(f"/campaigns/{campaign.id}", 303)


@dataclass(frozen=True)
class PreviewRow:
    number: int
    phone: str
    text: str | None
    problem: str | None


@router.post("/campaigns/preview")
async def preview(request: Request, runtime: RuntimeDep, _operator: AdminDep) -> Response:
    form = await request.form()
    fields = {k: _text(form.get(k)) for k in ("template", "channel", "sample", "encoding")}
    fields["phone_column"] = _text(form.get("phone_column"))
    context: dict[str, Any] = {"rows": [], "problem": None, "waiting": None}
    if not fields["template"]:
        context["waiting"] = "Write the message to see it here."
    elif not fields["sample"]:
        context["waiting"] = "Choose the CSV file to see the message for its first rows."
    else:
        try:
            context["rows"] = await _preview_rows(runtime, fields)
        except CsvProblem as exc:
            context["problem"] = str(exc)
    html = render_fragment("campaigns/preview.html", context)
    return Response(html, headers=SECURITY_HEADERS, media_type="text/html")


async def _preview_rows(runtime: Runtime, fields: dict[str, str]) -> list[PreviewRow]:
    try:
        sample = base64.b64decode(fields["sample"][: SAMPLE_BYTES * 2], validate=True)
    except (binascii.Error, ValueError):
        raise CsvProblem("the file's first bytes did not arrive whole: choose it again") from None
    # The browser sends the file's start: a last line cut short is left out.
    if len(sample) >= SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    try:
        channel = Channel(fields["channel"])
    except ValueError:
        channel = Channel.tts
    _, rows = read_rows(io.BytesIO(sample), _layout(fields))
    shown: list[PreviewRow] = []
    for row in itertools.islice(rows, PREVIEW_ROWS):
        problem = row.problem or row_number(row.phone, runtime.settings.default_region)[1]
        if problem is not None:
            shown.append(PreviewRow(row.number, row.phone, None, problem))
            continue
        try:
            text = await runtime.templates.render(fields["template"], row.variables)
        except RenderFailed as exc:
            shown.append(PreviewRow(row.number, row.phone, None, exc.reason))
            continue
        shown.append(PreviewRow(row.number, row.phone, text, text_refusal(text, channel)))
    return shown


def _strings(values: list[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
