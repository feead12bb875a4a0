"""A webhook receiver on a free loopback port: what receives our outbound events when they are measured or
tested locally (`make bench`'s events section, the event tests; the local stage allows loopback URLs).

Every request is kept — headers (lower-cased names), body, arrival time — and answered with the status
`answer` gives for it (200 by default); `answer` runs under the receiver's lock, so it may keep its own
tally (first arrivals, attempts per event) or wait (a hung receiver) before the reply goes out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    def event(self) -> dict[str, Any]:
        """The body as JSON (an event as delivered, unverified)."""
        result: dict[str, Any] = json.loads(self.body)
        return result


def _ok(_: Received) -> int:
    return 200


class WebhookReceiver:
    """Serves from a background thread until `stop()` (or the end of a `with` block)."""

    def __init__(self, answer: Callable[[Received], int] = _ok, *, hang: float = 0.0) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                with receiver.lock:
                    receiver.received.append(request)
                    status = answer(request)
                if hang:
                    time.sleep(hang)
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """The requests so far, once `count` have arrived or `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
