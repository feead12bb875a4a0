"""Webhook delivery: signs events and POSTs them to the webhook URL, one at a time, in order."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request

from localdev.stripe_emulator.errors import Obj
from localdev.stripe_emulator.signing import sign_payload

log = logging.getLogger("stripe-emulator")


class WebhookDelivery:
    """Signs events and POSTs them to the webhook URL; retries transient failures a few times.

    While `enabled` is false, events are recorded but not sent (lost webhooks), except those sent on
    purpose with `force` (`POST /_emulator/events/{id}/deliver`).
    """

    def __init__(self, url: str | None, secret: str) -> None:
        self.url, self.secret = url, secret
        self.enabled = True
        self.lock = threading.Lock()  # one delivery at a time keeps the order Stripe would attempt

    def deliver(self, events: list[Obj], force: bool = False) -> list[int | None]:
        """Send each event; the endpoint's last answer per event (None: not sent or unreachable)."""
        if not self.url or not events or not (self.enabled or force):
            return [None for _ in events]
        with self.lock:
            return [self._send(event) for event in events]

    def _send(self, event: Obj) -> int | None:
        status: int | None = None
        payload = json.dumps(event, indent=2).encode()
        for attempt in range(3):
            header = sign_payload(payload, self.secret, int(time.time()))
            request = urllib.request.Request(
                str(self.url),
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    log.info("delivered %s %s → %s", event["type"], event["id"], response.status)
                    event["pending_webhooks"] = 0
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                log.warning("webhook %s %s → %s", event["type"], event["id"], exc.code)
                status = exc.code
                if exc.code < 500:
                    return status
            except OSError as exc:
                log.warning("webhook %s %s failed: %s", event["type"], event["id"], exc)
                status = None
            if attempt < 2:
                time.sleep(0.2 * (attempt + 1))
        return status
