"""`dialer notify`: one notification through the API, and, if asked, its final status."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from dialer.cli.remote import Remote, api_options, show
from dialer.cli.scripts import read_script, script_option
from dialer.vocabulary import FINAL_NOTIFICATION

__all__ = ["notification_line", "notify"]

_FINAL = {status.value for status in FINAL_NOTIFICATION}


def notification_line(n: dict[str, Any]) -> str:
    outcome = f", {n['outcome']}" if n.get("outcome") else ""
    error = f" ({n['last_error']})" if n.get("last_error") else ""
    return f"{n['id']}  {n['provider']} {n['channel']} to {n['to']}: {n['status']}{outcome}{error}"


@click.command()
@click.argument("to")
@click.option(
    "--channel",
    default="tts",
    show_default=True,
    type=click.Choice(["tts", "playback", "voice_flow", "sms"]),
)
@click.option("--text", help="What is said (tts, voice_flow) or sent (sms).")
@click.option("--recording-url", help="The recording a playback call plays.")
@click.option("--from", "from_", required=True, help="The caller ID or sender.")
@click.option("--provider", type=click.Choice(["xoxzo", "voxology"]), default="xoxzo")
@click.option("--lang", type=click.Choice(["ja", "en"]))
@click.option("--send-at", help="When, ISO 8601; without an offset, the person's local time.")
@click.option("--idempotency-key", help="Sent again with the same key, it makes nothing new.")
@click.option("--webhook-url", help="A registered webhook endpoint for its events.")
@click.option("--wait", type=float, help="Wait up to this many seconds for its final status.")
@script_option
@api_options
def notify(
    to: str,
    channel: str,
    text: str | None,
    recording_url: str | None,
    from_: str,
    provider: str,
    lang: str | None,
    send_at: str | None,
    idempotency_key: str | None,
    webhook_url: str | None,
    wait: float | None,
    script_file: Path | None,
    remote: Remote,
    as_json: bool,
) -> None:
    """POST /v1/notifications: call or text TO once (and by its retry policy)."""
    body: dict[str, Any] = {"channel": channel, "to": to, "from": from_, "provider": provider}
    optional = {
        "text": text,
        "recording_url": recording_url,
        "lang": lang,
        "send_at": send_at,
        "webhook_url": webhook_url,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    if script_file is not None:
        body["script"] = read_script(script_file)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    made = remote.json("POST", "/v1/notifications", json=body, headers=headers)
    if wait is not None:
        deadline = time.monotonic() + wait
        while made["status"] not in _FINAL and time.monotonic() < deadline:
            time.sleep(0.5)
            made = remote.json("GET", f"/v1/notifications/{made['id']}")
    show(made, as_json, notification_line)
    if wait is not None and made["status"] not in _FINAL:
        raise click.ClickException(f"not final after {wait:g} s: {made['status']}")
