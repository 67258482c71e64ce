"""A client's webhook receiver for the chaos run, on a thread: it keeps every event id it
takes, and refuses a share of deliveries (500) as a flaky receiver would."""

from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Receiver"]


class Receiver:
    def __init__(self, refuse_rate: float, seed: int = 7) -> None:
        self.refuse_rate = refuse_rate
        self.taken: set[str] = set()
        self.deliveries = 0
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = self.headers.get("X-Dialer-Event-Id", "")
                with receiver._lock:
                    receiver.deliveries += 1
                    refuse = receiver._random.random() < receiver.refuse_rate
                    if not refuse:
                        receiver.taken.add(event_id)
                self.send_response(500 if refuse else 204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/events"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
