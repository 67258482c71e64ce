"""`dialer numbers ...`: Voxology numbers, provisioned and released one request at a time."""

from __future__ import annotations

import asyncio

import click

from dialer.cli.remote import Remote, api_options, show

__all__ = ["numbers"]


@click.group()
def numbers() -> None:
    """Voxology numbers: buy and route them, or give them back."""


def _change(action: str, phone_numbers: tuple[str, ...], assigned_to: str) -> None:
    from dialer.cli.shared import load_settings, redis_for
    from dialer.numbers.provisioning import NotConfigured, change_numbers
    from dialer.providers.base import ProviderError
    from dialer.runtime import Runtime

    settings = load_settings()

    async def run(redis_url: str) -> list[str]:
        runtime = await Runtime.open(settings, redis_url)
        try:
            held = await change_numbers(
                runtime,
                "provision" if action == "provision" else "release",
                list(phone_numbers),
                assigned_to,
            )
        finally:
            await runtime.close()
        return [str(number["no"]) for number in held]

    with redis_for(settings) as redis_url:
        try:
            held = asyncio.run(run(redis_url))
        except (NotConfigured, ProviderError) as exc:
            raise click.ClickException(str(exc)) from exc
    done = {"provision": "provisioned", "release": "released"}[action]
    click.echo(f"{done} {len(phone_numbers)}; {assigned_to} holds: {', '.join(held) or '-'}")


@numbers.command("provision")
@click.argument("phone_numbers", nargs=-1, required=True)
@click.option("--assigned-to", default="CallFlows", show_default=True)
def provision(phone_numbers: tuple[str, ...], assigned_to: str) -> None:
    """Buy PHONE_NUMBERS (E.164) and route them to ASSIGNED_TO."""
    _change("provision", phone_numbers, assigned_to)


@numbers.command("release")
@click.argument("phone_numbers", nargs=-1, required=True)
@click.option("--assigned-to", default="CallFlows", show_default=True)
def release(phone_numbers: tuple[str, ...], assigned_to: str) -> None:
    """Give PHONE_NUMBERS back."""
    _change("release", phone_numbers, assigned_to)


@numbers.command("action")
@click.argument("number")
@click.argument("action", required=False)
@click.option("--clear", is_flag=True, help="Back to the service default.")
@api_options
def action(number: str, action: str | None, clear: bool, remote: Remote, as_json: bool) -> None:
    """What NUMBER (a Voxology number) answers callers we never called with: read it, set
    ACTION (e.g. 'say en "We are closed"'), or --clear it."""
    path = f"/v1/numbers/{number}/action"
    if action is not None or clear:
        found = remote.json("PUT", path, json={"action": None if clear else action})
    else:
        found = remote.json("GET", path)
    show(found, as_json, lambda a: f"{a['number']}: {a['action'] or '(the service default)'}")
