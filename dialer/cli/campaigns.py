"""`dialer campaign ...`: campaigns from the shell, through the API (create, list, show, start,
pause, resume, cancel, estimate, results), and the bulk import and status read from the database."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from dialer.cli.remote import Remote, api_options, show
from dialer.cli.scripts import read_script, script_option
from dialer.terminal import printable
from dialer.vocabulary import CampaignStatus

__all__ = ["campaign", "providers"]


@click.group()
def campaign() -> None:
    """Campaigns: create, import contacts, start, follow, pause, resume, cancel, results."""


def _renames(_: click.Context, __: click.Parameter, pairs: tuple[str, ...]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for pair in pairs:
        header, sep, name = pair.partition("=")
        if not sep or not header.strip() or not name.strip():
            raise click.BadParameter(f"{pair!r} is not HEADER=NAME")
        renames[header.strip()] = name.strip()
    return renames


@campaign.command("import")
@click.argument("campaign_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--phone-column", help="The CSV column with the numbers (else found by name).")
@click.option("--timezone-column", help="A CSV column of IANA time zones.")
@click.option(
    "--send-at-column", help="A CSV column of send times (else a column named send_at, if any)."
)
@click.option(
    "--encoding", type=click.Choice(["utf-8", "utf-8-sig", "cp932", "shift_jis"]), default=None
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    callback=_renames,
    metavar="HEADER=NAME",
    help="Use the CSV column HEADER as the template variable NAME (repeatable).",
)
def import_file(
    campaign_id: int,
    file: Path,
    phone_column: str | None,
    timezone_column: str | None,
    send_at_column: str | None,
    encoding: str | None,
    renames: dict[str, str],
) -> None:
    """Import FILE (CSV with a header row) into campaign CAMPAIGN_ID."""
    from sqlmodel import Session, col, select

    from dialer.cli.shared import load_settings, upgrade_if_embedded
    from dialer.contacts.importer import import_contacts
    from dialer.contacts.reader import CsvLayout, CsvProblem
    from dialer.contacts.tuning import tuned_for_import
    from dialer.db import make_sync_engine
    from dialer.models import ImportIssue

    settings = load_settings()
    upgrade_if_embedded(settings)
    engine = make_sync_engine(settings.sync_database_url)
    layout = CsvLayout(
        phone_column=phone_column,
        timezone_column=timezone_column,
        send_at_column=send_at_column,
        encoding=encoding,
        rename=renames,
    )
    started = time.perf_counter()
    try:
        with file.open("rb") as stream, tuned_for_import():
            report = import_contacts(engine, campaign_id, stream, layout, filename=file.name)
    except CsvProblem as exc:
        raise click.ClickException(str(exc)) from exc
    seconds = time.perf_counter() - started
    click.echo(
        f"{report.rows:,} rows in {seconds:.1f} s: imported {report.imported:,}, "
        f"duplicate {report.duplicate:,}, suppressed {report.suppressed:,}, "
        f"invalid {report.invalid:,} (import {report.import_id})"
    )
    with Session(engine) as session:
        issues = session.exec(
            select(ImportIssue)
            .where(col(ImportIssue.import_id) == report.import_id)
            .order_by(col(ImportIssue.row_number))
            .limit(20)
        ).all()
    for issue in issues:
        click.echo(
            f"  row {issue.row_number}: {printable(issue.reason)} ({printable(issue.phone, 64)})"
        )
    if report.invalid > len(issues):
        click.echo(
            f"  ... {report.invalid - len(issues):,} more: GET /v1/campaigns/{campaign_id}"
            f"/imports/{report.import_id}/issues.csv"
        )
    engine.dispose()


@campaign.command("status")
@click.argument("campaign_id", type=int)
@click.option("--watch", is_flag=True, help="A live progress bar until the campaign stops.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between reads.")
def status(campaign_id: int, watch: bool, interval: float) -> None:
    """Counts per status and outcome for CAMPAIGN_ID."""
    import asyncio

    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from sqlmodel.ext.asyncio.session import AsyncSession

    from dialer.campaigns.counts import Counts, campaign_counts
    from dialer.cli.shared import in_session, load_settings
    from dialer.models import Campaign
    from dialer.vocabulary import FINAL_NOTIFICATION, CampaignStatus, NotificationStatus

    # The watch ends once the campaign has stopped and none of its calls still rings.
    stopped = {CampaignStatus.completed, CampaignStatus.canceled, CampaignStatus.paused}
    stopped |= {CampaignStatus.draft}
    ringing_states = (NotificationStatus.dialing, NotificationStatus.in_progress)

    settings = load_settings()

    async def load(session: AsyncSession) -> tuple[Campaign, Counts]:
        found = await session.get(Campaign, campaign_id)
        if found is None:
            raise click.ClickException(f"no campaign {campaign_id}")
        return found, await campaign_counts(session, campaign_id)

    def read() -> tuple[Campaign, Counts]:
        return asyncio.run(in_session(settings, load))

    console = Console()
    found, tallies = read()
    counts = tallies.statuses
    if watch:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[states]}"),
        )
        with Progress(*columns, console=console) as progress:
            name = escape(printable(found.name))
            task = progress.add_task(name, total=sum(counts.values()), states="")
            while True:
                done = sum(n for s, n in counts.items() if s in FINAL_NOTIFICATION)
                states = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))
                progress.update(
                    task,
                    total=sum(counts.values()),
                    completed=done,
                    states=escape(f"[{found.status}] {states}"),
                )
                ringing = any(counts.get(s) for s in ringing_states)
                if found.status in stopped and not ringing:
                    break
                time.sleep(interval)
                found, tallies = read()
                counts = tallies.statuses
    total = sum(counts.values())
    done = sum(n for s, n in counts.items() if s in FINAL_NOTIFICATION)
    reason = f" ({printable(found.pause_reason)})" if found.pause_reason else ""
    name = printable(found.name)
    # Names and reasons are the users': printed as text, never read as rich markup.
    for line in (
        f"campaign {campaign_id} '{name}': {found.status}{reason}, {done}/{total}",
        "status:  " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())),
        "outcome: " + ", ".join(f"{o} {n}" for o, n in sorted(tallies.outcomes.items())),
        "answer:  " + ", ".join(f"{a} {n}" for a, n in sorted(tallies.answers.items())),
    ):
        console.print(line, markup=False, highlight=False)


CAMPAIGN_CHANNELS = ["tts", "playback", "voice_flow", "sms"]


def _campaign_line(c: dict[str, Any]) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(c.get("counts", {}).items())) or "no contacts"
    reason = f" ({c['pause_reason']})" if c.get("pause_reason") else ""
    name = printable(str(c["name"]), 60)
    return f"{c['id']}  {name}  {c['provider']} {c['channel']}  {c['status']}{reason}  {counts}"


@campaign.command("create")
@click.argument("name")
@click.option(
    "--channel", required=True, type=click.Choice(["tts", "playback", "voice_flow", "sms"])
)
@click.option("--from", "from_", required=True, help="The caller ID or sender.")
@click.option("--template", help="The message, a template over the contacts' columns.")
@click.option("--recording-url", help="The recording a playback campaign plays.")
@click.option("--provider", type=click.Choice(["xoxzo", "voxology"]), default="xoxzo")
@click.option("--lang", type=click.Choice(["ja", "en"]))
@click.option("--schedule", "schedule", help="The schedule as JSON (see the API).")
@click.option("--policy", "policy", help="The retry policy as JSON (see the API).")
@click.option("--webhook-url", help="A registered webhook endpoint for its events.")
@script_option
@api_options
def create(
    name: str,
    channel: str,
    from_: str,
    template: str | None,
    recording_url: str | None,
    provider: str,
    lang: str | None,
    schedule: str | None,
    policy: str | None,
    webhook_url: str | None,
    script_file: Path | None,
    remote: Remote,
    as_json: bool,
) -> None:
    """POST /v1/campaigns: a new campaign, a draft until it is started."""
    body: dict[str, Any] = {"name": name, "channel": channel, "from": from_, "provider": provider}
    optional = {
        "template": template,
        "recording_url": recording_url,
        "lang": lang,
        "webhook_url": webhook_url,
    }
    body |= {k: v for k, v in optional.items() if v is not None}
    if script_file is not None:
        body["script"] = read_script(script_file)
    for field, text in (("schedule", schedule), ("policy", policy)):
        if text is not None:
            try:
                body[field] = json.loads(text)
            except ValueError as exc:
                raise click.BadParameter(f"not JSON: {exc}", param_hint=f"--{field}") from exc
    show(remote.json("POST", "/v1/campaigns", json=body), as_json, _campaign_line)


@campaign.command("list")
@click.option("--status", type=click.Choice([s.value for s in CampaignStatus]))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 200))
@api_options
def list_campaigns(status: str | None, limit: int, remote: Remote, as_json: bool) -> None:
    """GET /v1/campaigns: newest first."""
    query: dict[str, Any] = {"limit": limit} | ({"status": status} if status else {})
    show(remote.json("GET", "/v1/campaigns", params=query), as_json, _campaign_line)


@campaign.command("show")
@click.argument("campaign_id", type=int)
@api_options
def show_campaign(campaign_id: int, remote: Remote, as_json: bool) -> None:
    """GET /v1/campaigns/{id}: its counts, outcomes, answers and pacing."""
    found = remote.json("GET", f"/v1/campaigns/{campaign_id}")
    show(found, as_json, _campaign_line)
    if not as_json:
        for what in ("outcomes", "answers"):
            shown = ", ".join(f"{k} {v}" for k, v in sorted(found.get(what, {}).items()))
            click.echo(f"{what}: {shown or '-'}")


def _lifecycle(action: str) -> click.Command:
    @click.argument("campaign_id", type=int)
    @api_options
    def command(campaign_id: int, remote: Remote, as_json: bool, **more: Any) -> None:
        body = {"reason": more["reason"]} if more.get("reason") else None
        done = remote.json("POST", f"/v1/campaigns/{campaign_id}/{action}", json=body)
        show(done, as_json, _campaign_line)

    command.__doc__ = f"POST /v1/campaigns/{{id}}/{action}."
    made = campaign.command(action)(command)
    if action == "pause":
        made = click.option("--reason", help="Why, for whoever resumes it.")(made)
    return made


for _action in ("start", "pause", "resume", "cancel"):
    _lifecycle(_action)


@campaign.command("estimate")
@click.argument("campaign_id", type=int)
@api_options
def estimate(campaign_id: int, remote: Remote, as_json: bool) -> None:
    """GET /v1/campaigns/{id}/estimate: the cost of what is left against the balance."""

    def line(e: dict[str, Any]) -> str:
        allowed = "start allowed" if e["start_allowed"] else f"not allowed: {e['reason']}"
        return (
            f"{e['contacts_to_dial']} contacts, about {e['estimated_cost']:g} {e['unit']} "
            f"(at most {e['estimated_cost_at_most']:g}), balance {e['balance']}, {allowed}"
        )

    show(remote.json("GET", f"/v1/campaigns/{campaign_id}/estimate"), as_json, line)


@campaign.command("results")
@click.argument("campaign_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="A file.")
@click.option("--bom", is_flag=True, help="A UTF-8 byte-order mark, for Excel.")
@api_options
def results(
    campaign_id: int, output: Path | None, bom: bool, remote: Remote, as_json: bool
) -> None:
    """GET /v1/campaigns/{id}/results.csv: one row per contact."""
    answer = remote.call("GET", f"/v1/campaigns/{campaign_id}/results.csv", params={"bom": bom})
    if output is None:
        click.echo(answer.text, nl=False)
    else:
        output.write_bytes(answer.content)
        click.echo(f"wrote {output}")


@campaign.command("upload")
@click.argument("campaign_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options
def upload(campaign_id: int, file: Path, remote: Remote, as_json: bool) -> None:
    """POST /v1/campaigns/{id}/contacts (a CSV), or .../contacts/json (a .json file of
    {"contacts": [...]}): the contacts, through the API."""
    if file.suffix.lower() == ".json":
        try:
            body = json.loads(file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise click.BadParameter(f"not JSON: {exc}", param_hint="FILE") from exc
        report = remote.json("POST", f"/v1/campaigns/{campaign_id}/contacts/json", json=body)
    else:
        with file.open("rb") as stream:
            files = {"file": (file.name, stream, "text/csv")}
            report = remote.json("POST", f"/v1/campaigns/{campaign_id}/contacts", files=files)

    def line(r: dict[str, Any]) -> str:
        return (
            f"import {r['import_id']}: {r['rows']} rows, imported {r['imported']}, duplicate "
            f"{r['duplicate']}, suppressed {r['suppressed']}, invalid {r['invalid']}"
        )

    show(report, as_json, line)


@campaign.command("issues")
@click.argument("campaign_id", type=int)
@click.argument("import_id", type=int)
@api_options
def issues(campaign_id: int, import_id: int, remote: Remote, as_json: bool) -> None:
    """GET /v1/campaigns/{id}/imports/{import}/issues.csv: the rows an import did not take."""
    path = f"/v1/campaigns/{campaign_id}/imports/{import_id}/issues.csv"
    click.echo(remote.call("GET", path).text, nl=False)


@click.command()
@api_options
def providers(remote: Remote, as_json: bool) -> None:
    """GET /v1/providers: each account's balance, unit, credit rules and limits."""

    def line(p: dict[str, Any]) -> str:
        balance = p["balance"] if p["balance"] is not None else f"? ({p['balance_problem']})"
        return f"{p['name']}: balance {balance} {p['unit']}, minimum {p['minimum']:g}"

    show(remote.json("GET", "/v1/providers"), as_json, line)
