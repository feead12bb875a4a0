"""One delivery attempt: sign the event (Standard Webhooks) and POST it to the resolved, checked address.

No redirect is followed, the whole attempt lasts at most `timeout` seconds, and at most
`MAX_RESPONSE_BYTES` of the answer are read (and never logged).
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from chalicelib.outbound.urls import Target, UnsafeUrlError, check_url, resolve_safely

TIMEOUT_SECONDS = 15.0
MAX_RESPONSE_BYTES = 4096
USER_AGENT = "vip-rewards-webhooks/1"


def signature_header(secrets: list[str], event_id: str, timestamp: datetime, body: str) -> str:
    """`webhook-signature`: `v1,<base64>` per active secret, space-separated (two during a rotation)."""
    from standardwebhooks.webhooks import Webhook  # on first delivery: not on the API's cold path

    return " ".join(Webhook(secret).sign(event_id, timestamp, body) for secret in secrets)


def signed_headers(secrets: list[str], event_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets, event_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    status_code: int | None
    # Why an attempt failed, for the delivery log (never the response body).
    error: str | None = None


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def _create_connection(self, address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection((self._address, address[1]), timeout, source)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is checked against the URL's host name (SNI too)."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=_tls_context())
        self._address = address

    def _create_connection(self, address: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection((self._address, address[1]), timeout, source)


def _abort(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post(
    url: str, body: str, headers: dict[str, str], *, allow_loopback: bool, timeout: float = TIMEOUT_SECONDS
) -> Outcome:
    """POST `body` to `url` once; delivered on a 2xx. The URL and its resolved address are checked first."""
    try:
        target = check_url(url, allow_loopback=allow_loopback)
        address = resolve_safely(target)
    except UnsafeUrlError as exc:
        return Outcome(False, None, f"refused: {exc}")
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target, address, timeout)
    # The socket timeout bounds each read; this bounds the whole attempt (a receiver dripping bytes).
    deadline = threading.Timer(timeout, _abort, args=(connection,))
    deadline.start()
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:200])
    finally:
        deadline.cancel()
        connection.close()
    return Outcome(200 <= status < 300, status, None if 200 <= status < 300 else f"HTTP {status}")
