"""The `dialer` command: one module per group of subcommands, their helpers in `shared`."""

from __future__ import annotations

import click

from dialer.cli.admin import apikey, db
from dialer.cli.bench import bench, chaos
from dialer.cli.campaigns import campaign, providers
from dialer.cli.din import din
from dialer.cli.dnc import dnc
from dialer.cli.notifications import notification, remind
from dialer.cli.notify import notify
from dialer.cli.numbers import numbers
from dialer.cli.scripts import script
from dialer.cli.services import demo, sandbox, up, web, worker
from dialer.cli.webhooks import webhooks
from dialer.logs import FORMATS, Format, configure

__all__ = ["main"]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log every job and request too.")
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    envvar="DIALER_LOG_FORMAT",
    help="text, or one JSON object per line (DIALER_LOG_FORMAT).",
)
def main(verbose: bool, log_format: Format) -> None:
    """dialer: campaign and notification dialer for Xoxzo and Voxology."""
    configure(log_format, verbose=verbose)


for command in (up, web, worker, sandbox, demo, bench, chaos, db, apikey, din, campaign, numbers):
    main.add_command(command)
for command in (notify, notification, remind, dnc, webhooks, providers, script):
    main.add_command(command)
