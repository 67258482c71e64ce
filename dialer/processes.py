"""Real dialer processes (end-to-end tests, benchmarks): started, waited for, stopped or killed."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["DialerProcess", "deployment_env", "unwind_on_sigterm"]


def unwind_on_sigterm() -> None:
    """Make SIGTERM unwind this process like Ctrl-C, so that the `finally` of a command that
    started DialerProcesses (and an embedded Redis) stops them rather than orphaning them."""

    def unwind(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, unwind)


def deployment_env(
    database_url: str, redis_url: str, web_port: int, sandbox_port: int, rate: float
) -> dict[str, str]:
    """The environment of a throwaway deployment on this machine against the sandbox (Xoxzo),
    its provider limits at `rate` requests/s of each kind."""
    limits = {"calls": rate, "sms": rate, "status": rate}
    return {
        "DIALER_ENV": "development",
        "DIALER_DATABASE_URL": database_url,
        "DIALER_REDIS_URL": redis_url,
        "DIALER_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "DIALER_SECRET_KEY": secrets.token_urlsafe(32),
        "XOXZO_API_URL": f"http://127.0.0.1:{sandbox_port}",
        "XOXZO_SID": "sandbox-sid",
        "XOXZO_AUTH_TOKEN": "sandbox-token",
        "DIALER_PROVIDER_LIMITS": json.dumps({"xoxzo": limits}),
        # Its webhook receivers listen on this machine.
        "DIALER_WEBHOOK_ALLOW_PRIVATE": "true",
    }


class DialerProcess:
    def __init__(
        self, name: str, args: list[str], env: dict[str, str], logdir: Path, *, nice: int = 0
    ) -> None:
        """`nice` below 0 (root only) puts the process ahead of the others for the CPU."""
        self.name = name
        self.log = logdir / f"{name}.log"
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "dialer", *args],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None,
            )

    def wait_http(self, url: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer {url}: {self.log.read_text()[-2000:]}")

    def wait_log(self, text: str, timeout: float = 60) -> None:
        """Until the process writes `text` to its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            if text in self.log.read_text(errors="replace"):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} never logged {text!r}: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no goodbye, as when a machine dies."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
