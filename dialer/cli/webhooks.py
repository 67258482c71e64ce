"""`dialer webhooks ...`: webhook endpoints and their events through the API."""

from __future__ import annotations

from typing import Any

import click

from dialer.cli.remote import Remote, api_options, show

__all__ = ["webhooks"]


@click.group()
def webhooks() -> None:
    """Webhook endpoints: register one, list them, read their events, send one again."""


def _endpoint(e: dict[str, Any]) -> str:
    secret = f"  secret {e['secret']}" if e.get("secret") else ""
    return f"{e['id']}  {e['url']}  {e['created_at']}{secret}"


def _event(e: dict[str, Any]) -> str:
    return f"{e['id']}  {e['kind']}  {e['status']}  tries {e['tries']}  {e['created_at']}"


@webhooks.command("add")
@click.argument("url")
@api_options
def add(url: str, remote: Remote, as_json: bool) -> None:
    """Register URL; its secret (printed) signs every event sent to it."""
    show(remote.json("POST", "/v1/webhooks", json={"url": url}), as_json, _endpoint)


@webhooks.command("list")
@api_options
def list_endpoints(remote: Remote, as_json: bool) -> None:
    """The registered endpoints."""
    show(remote.json("GET", "/v1/webhooks"), as_json, _endpoint)


@webhooks.command("events")
@click.argument("endpoint_id", type=int)
@click.option("--status", type=click.Choice(["pending", "delivered", "failed"]))
@click.option("--after", default=0, show_default=True, help="Only events after this id.")
@api_options
def events(endpoint_id: int, status: str | None, after: int, remote: Remote, as_json: bool) -> None:
    """ENDPOINT_ID's events, oldest first."""
    query: dict[str, Any] = {"after": after} | ({"status": status} if status else {})
    found = remote.json("GET", f"/v1/webhooks/{endpoint_id}/events", params=query)
    show(found, as_json, _event)


@webhooks.command("resend")
@click.argument("event_id", type=int)
@api_options
def resend(event_id: int, remote: Remote, as_json: bool) -> None:
    """Send EVENT_ID again now."""
    show(remote.json("POST", f"/v1/webhook-events/{event_id}/resend"), as_json, _event)


@webhooks.command("show")
@click.argument("endpoint_id", type=int)
@api_options
def show_endpoint(endpoint_id: int, remote: Remote, as_json: bool) -> None:
    """One endpoint, with its secret."""
    show(remote.json("GET", f"/v1/webhooks/{endpoint_id}"), as_json, _endpoint)


@webhooks.command("event")
@click.argument("event_id", type=int)
@api_options
def show_event(event_id: int, remote: Remote, as_json: bool) -> None:
    """One event and every try at sending it."""
    found = remote.json("GET", f"/v1/webhook-events/{event_id}")
    show(found, as_json, _event)
    if not as_json:
        for d in found["deliveries"]:
            click.echo(f"  {d['at']}  {d['status_code'] or d['error']}  {d['duration_ms']} ms")
