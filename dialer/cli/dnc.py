"""`dialer dnc ...`: the do-not-contact lists through the API, global or one campaign's."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from dialer.cli.remote import Remote, api_options, show

__all__ = ["dnc"]


@click.group()
def dnc() -> None:
    """Do-not-contact: numbers never called or texted (globally, or by one campaign)."""


def _base(campaign_id: int | None) -> str:
    return f"/v1/campaigns/{campaign_id}/do-not-contact" if campaign_id else "/v1/do-not-contact"


def _line(entry: dict[str, Any]) -> str:
    reason = f"  {entry['reason']}" if entry.get("reason") else ""
    return f"{entry['number']}  {entry['source']}  {entry['created_at']}{reason}"


_CAMPAIGN = click.option("--campaign", "campaign_id", type=int, help="That campaign's own list.")


@dnc.command("add")
@click.argument("number")
@click.option("--reason", help="Why, for the history.")
@_CAMPAIGN
@api_options
def add(
    number: str, reason: str | None, campaign_id: int | None, remote: Remote, as_json: bool
) -> None:
    """Put NUMBER on the list."""
    body = {"number": number} | ({"reason": reason} if reason else {})
    show(remote.json("POST", _base(campaign_id), json=body), as_json, _line)


@dnc.command("remove")
@click.argument("number")
@_CAMPAIGN
@api_options
def remove(number: str, campaign_id: int | None, remote: Remote, as_json: bool) -> None:
    """Take NUMBER off the list."""
    remote.call("DELETE", f"{_base(campaign_id)}/{number}")
    click.echo(f"removed {number}")


@dnc.command("list")
@_CAMPAIGN
@api_options
def list_numbers(campaign_id: int | None, remote: Remote, as_json: bool) -> None:
    """The numbers on the list."""
    show(remote.json("GET", _base(campaign_id)), as_json, _line)


@dnc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", help="Why, for every number of the file.")
@_CAMPAIGN
@api_options
def import_numbers(
    file: Path, reason: str | None, campaign_id: int | None, remote: Remote, as_json: bool
) -> None:
    """Put every number of FILE (the first column of a CSV, or one per line) on the list; each
    refusal is reported with its line, and the rest go on."""
    added = refused = 0
    with file.open(newline="", encoding="utf-8-sig") as stream:
        for line_number, row in enumerate(csv.reader(stream), start=1):
            number = row[0].strip() if row else ""
            if not number or (line_number == 1 and not any(c.isdigit() for c in number)):
                continue  # a blank line, or a header
            body = {"number": number} | ({"reason": reason} if reason else {})
            try:
                remote.json("POST", _base(campaign_id), json=body)
                added += 1
            except click.ClickException as exc:
                refused += 1
                click.echo(f"line {line_number}: {number[:40]!r}: {exc.message}", err=True)
    click.echo(f"{added} on the list, {refused} refused")


@dnc.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="A file.")
@_CAMPAIGN
@api_options
def export(output: Path | None, campaign_id: int | None, remote: Remote, as_json: bool) -> None:
    """The list as CSV: number, source, reason, created_at."""
    entries = remote.json("GET", _base(campaign_id))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["number", "source", "reason", "created_at"])
    for e in entries:
        writer.writerow([e["number"], e["source"], e.get("reason") or "", e["created_at"]])
    if output is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        output.write_text(buffer.getvalue(), encoding="utf-8")
        click.echo(f"wrote {len(entries)} numbers to {output}")


@dnc.command("history")
@click.argument("number")
@api_options
def history(number: str, remote: Remote, as_json: bool) -> None:
    """Every change to NUMBER on the lists, and who asked, how and when."""

    def line(e: dict[str, Any]) -> str:
        reason = f"  {e['reason']}" if e.get("reason") else ""
        return f"{e['happened_at']}  {e['scope']}  {e['change']}  {e['source']}{reason}"

    show(remote.json("GET", f"/v1/do-not-contact/{number}/history"), as_json, line)
