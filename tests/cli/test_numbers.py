"""`dialer numbers`, run as the real command."""

from __future__ import annotations

import os
import subprocess
import sys


def test_numbers_need_voxology_configured() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXOLOGY_")}
    done = subprocess.run(
        [sys.executable, "-m", "dialer", "numbers", "provision", "+14155550100"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 1
    assert "Voxology is not configured: set VOXOLOGY_API_KEY" in done.stderr
