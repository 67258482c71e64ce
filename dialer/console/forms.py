"""The new-campaign form's fields, turned into the API's body (CampaignCreate), so that the
console and the API share every rule; and the API's refusals turned back into messages by field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from dialer.campaigns.schemas import CampaignCreate
from dialer.errors import FieldError, FieldErrors

__all__ = [
    "RETRIED",
    "WEEKDAYS",
    "FormValues",
    "campaign_body",
    "checked_body",
    "field_messages",
    "read_form",
]

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# The outcomes a campaign may call again after, and the form's default wait in minutes.
RETRIED = {"no_answer": 30, "busy": 10, "failed": 30}
_TEXT_FIELDS = (
    "name",
    "provider",
    "channel",
    "from",
    "template",
    "recording_url",
    "lang",
    "window_start",
    "window_end",
    "timezone",
    "holidays",
    "max_attempts",
    "max_rate",
    "fallback_template",
)


class FormValues(dict[str, Any]):
    """What the form sent: one string per field, weekdays and retries as lists."""


def read_form(form: Mapping[str, Any], weekdays: list[str], retried: list[str]) -> FormValues:
    values = FormValues({name: _text(form.get(name)) for name in _TEXT_FIELDS})
    values["weekdays"] = weekdays
    values["retry"] = retried
    for outcome in RETRIED:
        values[f"retry_{outcome}_min"] = _text(form.get(f"retry_{outcome}_min"))
    values["sms_fallback"] = _text(form.get("sms_fallback")) == "yes"
    return values


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: str) -> float | str | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return value  # the API's own check names it
    # inf, nan and 1e300 are the API's to refuse, as text; a minute count must stay finite.
    return number if abs(number) < 1e12 else value


def campaign_body(values: FormValues) -> dict[str, Any]:
    """The API's JSON body for what the form says; blank fields are left to the API's defaults."""
    schedule: dict[str, Any] = {
        "weekdays": [int(d) for d in values["weekdays"] if d.isascii() and d.isdigit()],
        "holidays": [line.strip() for line in values["holidays"].splitlines() if line.strip()],
    }
    for name in ("window_start", "window_end", "timezone"):
        if values[name]:
            schedule[name] = values[name]
    retry: dict[str, Any] = {}
    for outcome in RETRIED:
        if outcome in values["retry"]:
            minutes = _number(values[f"retry_{outcome}_min"])
            retry[outcome] = {
                "delay_s": round(minutes * 60) if isinstance(minutes, float) else minutes or 0
            }
    policy: dict[str, Any] = {"retry": retry}
    for name in ("max_attempts", "max_rate"):
        number = _number(values[name])
        if number is not None:
            policy[name] = number
    if values["sms_fallback"]:
        policy["sms_fallback"] = {"template": values["fallback_template"]}
    body: dict[str, Any] = {
        "name": values["name"],
        "provider": values["provider"],
        "channel": values["channel"],
        "from": values["from"],
        "schedule": schedule,
        "policy": policy,
    }
    for name in ("template", "recording_url", "lang"):
        if values[name]:
            body[name] = values[name]
    return body


def checked_body(values: FormValues) -> CampaignCreate:
    """CampaignCreate, or FieldErrors naming the form's fields."""
    try:
        return CampaignCreate.model_validate(campaign_body(values))
    except ValidationError as exc:
        raise FieldErrors(
            [
                FieldError(
                    ".".join(str(p) for p in error["loc"]),
                    str(error["msg"]).removeprefix("Value error, "),
                )
                for error in exc.errors()
            ]
        ) from None


def field_messages(errors: FieldErrors) -> list[str]:
    return [f"{e.field}: {e.message}" if e.field else e.message for e in errors.errors]
