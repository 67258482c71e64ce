"""Commands that start processes stop them when they are told to stop."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

_SCRIPT = """
import sys, time
from pathlib import Path
from dialer.processes import unwind_on_sigterm
unwind_on_sigterm()
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    Path(sys.argv[1]).write_text("stopped its children")
"""


def test_sigterm_unwinds_through_finally(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    with subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(marker)], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=10) == 128 + signal.SIGTERM
    assert time.monotonic() - started < 10
    assert marker.read_text() == "stopped its children"
