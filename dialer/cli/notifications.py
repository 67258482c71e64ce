"""`dialer notification ...` and `dialer remind`: notifications already made, and reminders of an
appointment, through the API."""

from __future__ import annotations

from typing import Any

import click

from dialer.cli.notify import notification_line
from dialer.cli.remote import Remote, api_options, show

__all__ = ["notification", "remind"]


@click.group()
def notification() -> None:
    """Notifications: list, show, reschedule or cancel one."""


@notification.command("list")
@click.option("--status", help="Only this status (queued, delivered, failed, ...).")
@click.option("--to", help="Only to this number.")
@click.option("--after", default=0, show_default=True, help="Only ids after this one.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@api_options
def list_notifications(
    status: str | None, to: str | None, after: int, limit: int, remote: Remote, as_json: bool
) -> None:
    """GET /v1/notifications: API notifications and reminders, oldest first."""
    query: dict[str, Any] = {"after": after, "limit": limit}
    query |= {k: v for k, v in (("status", status), ("to", to)) if v is not None}
    show(remote.json("GET", "/v1/notifications", params=query), as_json, notification_line)


@notification.command("show")
@click.argument("notification_id", type=int)
@api_options
def show_notification(notification_id: int, remote: Remote, as_json: bool) -> None:
    """GET /v1/notifications/{id}: it and each of its attempts."""
    found = remote.json("GET", f"/v1/notifications/{notification_id}")
    show(found, as_json, notification_line)
    if not as_json:
        for a in found["attempts"]:
            outcome = f", {a['outcome']}" if a.get("outcome") else ""
            click.echo(f"  attempt {a['number']}: {a['status']}{outcome} ({a['provider_id']})")


@notification.command("reschedule")
@click.argument("notification_id", type=int)
@click.argument("send_at")
@api_options
def reschedule(notification_id: int, send_at: str, remote: Remote, as_json: bool) -> None:
    """PATCH /v1/notifications/{id}: a new SEND_AT, until it is first dialled."""
    path = f"/v1/notifications/{notification_id}"
    show(remote.json("PATCH", path, json={"send_at": send_at}), as_json, notification_line)


@notification.command("cancel")
@click.argument("notification_id", type=int)
@api_options
def cancel(notification_id: int, remote: Remote, as_json: bool) -> None:
    """POST /v1/notifications/{id}/cancel: not dialled, if it has not been yet."""
    path = f"/v1/notifications/{notification_id}/cancel"
    show(remote.json("POST", path), as_json, notification_line)


@click.command()
@click.argument("to")
@click.option("--appointment-at", required=True, help="ISO 8601; no offset: the person's time.")
@click.option("--before", "remind_before", multiple=True, required=True, help="e.g. 24h, 2h.")
@click.option("--text", required=True, help="What is said or sent.")
@click.option("--from", "from_", required=True, help="The caller ID or sender.")
@click.option("--channel", default="tts", show_default=True, type=click.Choice(["tts", "sms"]))
@click.option("--provider", type=click.Choice(["xoxzo", "voxology"]), default="xoxzo")
@click.option("--lang", type=click.Choice(["ja", "en"]))
@api_options
def remind(
    to: str,
    appointment_at: str,
    remind_before: tuple[str, ...],
    text: str,
    from_: str,
    channel: str,
    provider: str,
    lang: str | None,
    remote: Remote,
    as_json: bool,
) -> None:
    """POST /v1/reminders: one notification per --before, kept to the calling window."""
    body: dict[str, Any] = {
        "to": to,
        "from": from_,
        "channel": channel,
        "provider": provider,
        "text": text,
        "appointment_at": appointment_at,
        "remind_before": list(remind_before),
    } | ({"lang": lang} if lang else {})
    show(remote.json("POST", "/v1/reminders", json=body), as_json, notification_line)
