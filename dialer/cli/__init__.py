"""The `dialer` command: one module per group of subcommands, their helpers in `shared`."""

from __future__ import annotations

import logging

import click

from dialer.cli.admin import apikey, db
from dialer.cli.bench import bench, chaos
from dialer.cli.campaigns import campaign
from dialer.cli.din import din
from dialer.cli.numbers import numbers
from dialer.cli.services import demo, sandbox, up, web, worker

__all__ = ["main"]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """dialer: campaign and notification dialer for Xoxzo and Voxology."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for command in (up, web, worker, sandbox, demo, bench, chaos, db, apikey, din, campaign, numbers):
    main.add_command(command)
