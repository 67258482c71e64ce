"""An installable package: a wheel carries the templates, the migrations and the licence, and
`dialer demo` and `dialer db upgrade` run from it in an empty directory, with no checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        timeout=600,
    )
    [built] = out.glob("dialer-*.whl")
    return built


def test_the_wheel_carries_templates_migrations_and_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "dialer-0.1.0.data/data/share/dialer/"
    assert f"{data}templates/flows/say.json.j2" in names
    assert f"{data}templates/tts/demo.txt.j2" in names
    assert f"{data}alembic/env.py" in names
    migrations = sorted(n for n in names if n.startswith(f"{data}alembic/versions/"))
    assert len(migrations) == len(list((REPO / "alembic" / "versions").glob("*.py")))
    assert "dialer-0.1.0.dist-info/licenses/LICENSE" in names
    # The API docs' own files (no CDN).
    assert "dialer/static/swagger-ui/swagger-ui-bundle.js" in names


@pytest.mark.timeout(900)
def test_the_installed_wheel_runs_the_demo_in_an_empty_directory(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, timeout=600
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIALER_", "XOXZO_"))}
    env.pop("PYTHONPATH", None)
    upgraded = subprocess.run(
        [str(venv / "bin" / "dialer"), "db", "upgrade"],
        cwd=empty,
        env={**env, "DIALER_DATABASE_URL": f"sqlite:///{empty / 'x.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    demo = subprocess.run(
        [str(venv / "bin" / "dialer"), "demo", "--count", "2"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "2 of 2 TTS notifications final" in demo.stdout
