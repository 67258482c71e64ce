from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dialer import clock
from dialer.config import Settings
from dialer.models import utcnow


def test_without_a_clock_file_it_is_the_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=1)


def test_a_clock_file_moves_this_process_and_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(path))
    assert abs(utcnow() - datetime.now(UTC)) < timedelta(seconds=1)  # no file yet: no offset
    clock.set_offset(path, 86_400)
    assert abs(utcnow() - datetime.now(UTC) - timedelta(days=1)) < timedelta(seconds=1)
    other = subprocess.run(
        [sys.executable, "-c", "from dialer.models import utcnow; print(utcnow().isoformat())"],
        capture_output=True,
        text=True,
        env={**os.environ, clock.CLOCK_FILE_VARIABLE: str(path)},
        check=True,
    )
    seen = datetime.fromisoformat(other.stdout.strip())
    assert abs(seen - datetime.now(UTC) - timedelta(days=1)) < timedelta(seconds=5)
    clock.set_offset(path, -3600)
    assert abs(utcnow() - datetime.now(UTC) + timedelta(hours=1)) < timedelta(seconds=1)


def test_production_refuses_a_moved_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(tmp_path / "clock"))
    with pytest.raises(ValueError, match="moves the clock"):
        Settings(
            env="production",
            secret_key="Zq3-vN8_kP2xR7tY5wB1mC4hJ6gF9dS0aL",
            xoxzo_sid="AC-real",
            xoxzo_auth_token="real-token",  # type: ignore[arg-type]
        )
