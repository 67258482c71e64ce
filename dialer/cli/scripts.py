"""`dialer script`: call scripts as files (YAML or JSON), checked here before they are sent, and
the default script to start one from; and the --script option of `notify` and
`campaign create`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from dialer.flows.placement import script_placement
from dialer.repeated_keys import repeated_key
from dialer.scripts.defaults import default_script
from dialer.scripts.schemas import Script
from dialer.vocabulary import Channel

__all__ = ["read_script", "script", "script_option"]

_MAX_BYTES = 1_000_000


class _UniqueKeys(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping that gives a key twice (YAML keeps the last)."""


def _mapping(loader: _UniqueKeys, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeys.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_script(path: Path) -> dict[str, Any]:
    """A script file as JSON data: YAML, or JSON (YAML reads it too); BadParameter naming what
    is wrong with it as a file."""
    hint = f"--script {path}"
    try:
        raw = path.read_bytes()[: _MAX_BYTES + 1]
    except OSError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from exc
    if len(raw) > _MAX_BYTES:
        raise click.BadParameter(f"over {_MAX_BYTES} bytes", param_hint=hint)
    if path.suffix.lower() == ".json":
        twice = repeated_key(raw)
        if twice is not None:
            raise click.BadParameter(f"{twice[0]}: {twice[1]!r} is given twice", param_hint=hint)
    try:
        data = yaml.load(raw.decode("utf-8-sig"), Loader=_UniqueKeys)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"not YAML or JSON: {exc}", param_hint=hint) from exc
    if not isinstance(data, dict):
        raise click.BadParameter("a script is a mapping (start, steps, ...)", param_hint=hint)
    return data


def script_option(command: Any) -> Any:
    return click.option(
        "--script",
        "script_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A call script, YAML or JSON (see `dialer script`).",
    )(command)


@click.group()
def script() -> None:
    """Call scripts: check one, or print the default to start from."""


@script.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", type=click.Choice(["xoxzo", "voxology"]), default="voxology")
@click.option(
    "--channel", type=click.Choice(["voice_flow", "tts", "playback"]), default="voice_flow"
)
@click.option("--lang", type=click.Choice(["ja", "en"]))
def check(file: Path, provider: str, channel: str, lang: str | None) -> None:
    """Check FILE as the API will: its steps as a graph, and every flow it makes measured."""
    data = read_script(file)
    try:
        parsed = Script.model_validate(data)
        placed = script_placement(provider, Channel(channel), parsed, lang or parsed.lang)
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    if isinstance(placed, Script):
        click.echo(
            f"ok: {len(placed.steps)} steps, questions: {', '.join(placed.questions()) or '-'}"
        )
    else:
        click.echo(f"ok: one message: {placed.text or placed.recording_url}")


@script.command("default")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON rather than YAML.")
def default(lang: str, as_json: bool) -> None:
    """The script a voice_flow call plays when it has none: its message, then press 1 to
    confirm or 9 to opt out. Edit it and pass it with --script."""
    made = default_script(text="{{ message }}", recording_url=None, lang=lang)
    data = made.model_dump(mode="json", exclude_none=True)
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
    else:
        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), nl=False)
