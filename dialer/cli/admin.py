"""`dialer db ...` and `dialer apikey ...`: the database's schema and the API's keys."""

from __future__ import annotations

import asyncio

import click

from dialer.cli.shared import in_session, load_settings, upgrade_if_embedded
from dialer.terminal import printable
from dialer.vocabulary import Scope

__all__ = ["apikey", "db"]


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the schema up to date (alembic upgrade head)."""
    from dialer.migrations import upgrade_to_head

    upgrade_to_head(load_settings().database_url)


@click.group()
def apikey() -> None:
    """API keys."""


@apikey.command("create")
@click.option("--name", default="default", show_default=True)
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    default=Scope.admin.value,
    show_default=True,
    help="admin may do everything; viewer may only read, in the API and the console",
)
def apikey_create(name: str, scope: str) -> None:
    """Create an API key and print it alone on stdout; it is shown only once."""
    from dialer.apikeys import create_api_key

    settings = load_settings()
    upgrade_if_embedded(settings)
    made = in_session(settings, lambda s: create_api_key(s, name, Scope(scope)))
    click.echo(asyncio.run(made))


@apikey.command("list")
def apikey_list() -> None:
    """The API keys: prefix, name, scope, created, revoked. Keys themselves are not stored."""
    from dialer.apikeys import list_api_keys

    for key in asyncio.run(in_session(load_settings(), list_api_keys)):
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-"
        name = printable(key.name, 80)
        created = f"{key.created_at:%Y-%m-%d %H:%M}"
        click.echo(f"{key.prefix}  {name}  {key.scope.value}  {created}  revoked: {revoked}")


@apikey.command("revoke")
@click.argument("prefix")
def apikey_revoke(prefix: str) -> None:
    """Revoke a key by its PREFIX, the part after `dk_` (see `apikey list`)."""
    from dialer.apikeys import revoke_api_key

    if asyncio.run(in_session(load_settings(), lambda s: revoke_api_key(s, prefix))) is None:
        raise click.ClickException(f"no API key with prefix {prefix!r}")
    click.echo(f"revoked {prefix}")
