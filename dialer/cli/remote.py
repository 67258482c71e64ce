"""The REST API from the shell: every command that changes or reads what a running dialer holds
goes through its API, in the API's own words, with the same key and the same answers.
`--url` (DIALER_API_URL, else DIALER_PUBLIC_URL) and `--api-key` (DIALER_API_KEY) say where."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import httpx

__all__ = ["Remote", "api_options", "show"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Remote:
    url: str
    api_key: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The API's answer; a ClickException with its own words for any refusal."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        try:
            with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:
                answer = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach the dialer at {self.url}: {exc}") from exc
        if answer.status_code >= 400:
            raise click.ClickException(f"{answer.status_code}: {_why(answer)}")
        return answer

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.call(method, path, **kwargs)
        return answer.json() if answer.content else None


def _why(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except (ValueError, AttributeError):
        return answer.text[:500]
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return str(detail)


def _remote(ctx: click.Context, url: str | None, api_key: str | None) -> Remote:
    if url is None:
        from dialer.cli.shared import load_settings

        url = load_settings().public_url
    if not api_key:
        raise click.UsageError("an API key is needed: --api-key or DIALER_API_KEY")
    return Remote(url.rstrip("/"), api_key)


def api_options(command: F) -> F:
    """--url, --api-key and --json for a command that takes `remote: Remote, as_json: bool`."""

    def remote_from(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
        ctx.meta["dialer.url"] = value
        return value

    def key_from(ctx: click.Context, _: click.Parameter, value: str | None) -> Remote:
        return _remote(ctx, ctx.meta.get("dialer.url"), value)

    command = click.option("--json", "as_json", is_flag=True, help="The API's JSON answer.")(
        command
    )
    command = click.option(
        "--api-key",
        "remote",
        envvar="DIALER_API_KEY",
        callback=key_from,
        help="An API key (DIALER_API_KEY).",
    )(command)
    return click.option(
        "--url",
        "api_url",
        envvar="DIALER_API_URL",
        callback=remote_from,
        is_eager=True,
        expose_value=False,
        help="The dialer's API (DIALER_API_URL; default DIALER_PUBLIC_URL).",
    )(command)


def show(value: Any, as_json: bool, line: Callable[[Any], str]) -> None:
    """The API's answer as JSON, or one line per item."""
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False, indent=2))
        return
    for item in value if isinstance(value, list) else [value]:
        click.echo(line(item))
