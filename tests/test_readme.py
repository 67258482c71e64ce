"""The README's sandbox recipe, run as written: one text-to-speech call through the sandbox to
its final status, reported by the callback long before any poll would have asked."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _recipe() -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(r"<!-- sandbox-recipe -->\n```sh\n(.*?)```", text, re.S)
    assert found is not None, "the README has no sandbox recipe"
    return found.group(1)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.timeout(300)
def test_the_sandbox_recipe_gives_a_call_its_final_status_by_callback(tmp_path: Path) -> None:
    assert _free(8000) and _free(8765), "the recipe's ports 8000 and 8765 are taken here"
    # A checkout of its own (the database lands in it), sharing this one's .venv.
    shutil.copytree(REPO / ".ci", tmp_path / ".ci")
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "XOXZO_"))}
    env = {k: v for k, v in env.items() if not k.startswith("VOXOLOGY_")}
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", f"set -e\ncd {tmp_path}\n{_recipe()}"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert re.search(r"^1  xoxzo tts to \+819012345670: delivered, answered$", done.stdout, re.M)
    # Polls ask after DIALER_POLL_INTERVAL_S (60 s): this was the callback.
    assert took < 60, f"the recipe took {took:.0f} s"
