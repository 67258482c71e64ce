"""`dialer script check|default`, and a script file given with --script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dialer.cli import main
from dialer.scripts.defaults import DEFAULT_TEXTS
from tests.cli.test_remote import _json
from tests.scripts.clinic import CLINIC
from tests.stack import Stack


# The command line and scripts go through the API: what they store is tested on both databases
# where it is written.
@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    return sqlite_database_url


CLINIC_YAML = yaml.safe_dump(CLINIC, allow_unicode=True)


def _run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, list(args))
    return done.exit_code, done.output


def test_check_reads_yaml_and_json_and_names_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "clinic.yaml"
    good.write_text(CLINIC_YAML, encoding="utf-8")
    assert _run("script", "check", str(good)) == (0, "ok: 6 steps, questions: confirm\n")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**CLINIC, "start": "welcome"}), encoding="utf-8")
    code, output = _run("script", "check", str(broken))
    assert code == 1 and "start: no step named 'welcome'" in output
    on_xoxzo = _run("script", "check", str(good), "--provider", "xoxzo")
    assert on_xoxzo[0] == 1 and "Xoxzo plays one message" in on_xoxzo[1]


def test_a_key_given_twice_in_a_file_is_refused(tmp_path: Path) -> None:
    twice = CLINIC_YAML.replace("'2':", "'1':")
    assert twice != CLINIC_YAML
    (tmp_path / "twice.yaml").write_text(twice, encoding="utf-8")
    code, output = _run("script", "check", str(tmp_path / "twice.yaml"))
    assert code == 2 and "'1' is given twice" in output
    text = json.dumps(CLINIC).replace('"2": {"label"', '"1": {"label"')
    (tmp_path / "twice.json").write_text(text, encoding="utf-8")
    code, output = _run("script", "check", str(tmp_path / "twice.json"))
    assert code == 2 and "steps.confirm.keys: '1' is given twice" in output
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    code, output = _run("script", "check", str(tmp_path / "list.yaml"))
    assert code == 2 and "a script is a mapping" in output


def test_the_default_script_is_printed_to_start_from(tmp_path: Path) -> None:
    code, output = _run("script", "default", "--lang", "ja")
    assert code == 0
    printed = yaml.safe_load(output)
    assert printed["steps"]["confirm"]["ask"] == DEFAULT_TEXTS["ja"]["prompt"]
    (tmp_path / "mine.yaml").write_text(output, encoding="utf-8")
    assert _run("script", "check", str(tmp_path / "mine.yaml"))[0] == 0


async def test_a_campaign_is_created_with_a_script_file(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "notice.yaml"
    steps = {"a": {"say": "{{ 氏名 }}様、", "next": "b"}, "b": {"say": "明日のご予約です。"}}
    path.write_text(yaml.safe_dump({"start": "a", "steps": steps}), encoding="utf-8")
    made = await _json(
        stack, "campaign", "create", "Clinic", "--channel", "tts", "--from", "+81312345678",
        "--lang", "ja", "--script", str(path),
    )  # fmt: skip
    # On Xoxzo a script of says is one message: the campaign's template.
    assert (made["template"], made["script"]) == ("{{ 氏名 }}様、 明日のご予約です。", None)
