"""`dialer campaign ...`: import contacts from a file and follow a campaign from the shell."""

from __future__ import annotations

import time
from pathlib import Path

import click

from dialer.terminal import printable

__all__ = ["campaign"]


@click.group()
def campaign() -> None:
    """Campaigns: import contacts, follow progress."""


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
