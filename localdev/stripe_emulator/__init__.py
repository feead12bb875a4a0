"""A local Stripe for `make dev` and the tests: Stripe's REST API for what the service uses, in memory.

    emulator = Emulator(port=12111, webhook_url="http://127.0.0.1:8000/v1/webhooks/stripe")
    emulator.start()          # serves on emulator.base_url until emulator.stop()

Never deployed. See docs/stripe-emulator.md for what it does and where it differs from Stripe.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from localdev.stripe_emulator.account import API_VERSION, Stripe
from localdev.stripe_emulator.delivery import WebhookDelivery
from localdev.stripe_emulator.server import EmulatorServer

__all__ = ["API_VERSION", "Emulator"]


class Emulator:
    """The emulator as a background HTTP server (port 0 picks a free port).

    `clock` is the emulated account's "now" (unix seconds; the machine's time unless a test passes its own).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 12111,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_local",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stripe = Stripe(clock=clock)
        self.delivery = WebhookDelivery(webhook_url, webhook_secret)
        self.server = EmulatorServer((host, port), self.stripe, self.delivery)
        self.host, self.port = host, int(self.server.server_address[1])
        self.base_url = f"http://{self.host}:{self.port}"
        self.stripe.base_url = self.base_url
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self.server.serve_forever, name="stripe-emulator", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Forget every object and event and turn webhooks back on (as `DELETE /_emulator/data`)."""
        self.stripe.reset()
        self.delivery.enabled = True

    def set_webhook_url(self, url: str | None) -> None:
        """Where events go; None records them without delivering (tests post them themselves)."""
        self.delivery.url = url

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event so far, oldest first (as delivered; `GET /v1/events` lists newest first)."""
        with self.stripe.lock:
            return copy.deepcopy(self.stripe.account.events)

    @property
    def api_requests(self) -> list[str]:
        """Every Stripe API request received so far, as `METHOD /path`, oldest first."""
        with self.stripe.lock:
            return list(self.stripe.account.requests)

    def events_since(self, count: int) -> list[dict[str, Any]]:
        """The events after the first `count` (take `len(emulator.events)` before an action)."""
        return self.events[count:]

    def complete_checkout(
        self,
        session_id: str,
        outcome: str = "succeeded",
        promotion_code: str | None = None,
        card: str | None = None,
    ) -> dict[str, Any]:
        """The shopper pays (or is declined) on the hosted page, through the control endpoint, having typed
        `promotion_code` if given (sessions with `allow_promotion_codes`), with the test card number `card`
        if given (the customer keeps it for later invoices) or else the customer's own card."""
        body: dict[str, Any] = {"outcome": outcome}
        if promotion_code is not None:
            body["promotion_code"] = promotion_code
        if card is not None:
            body["card"] = card
        return self._control(f"/_emulator/checkout_sessions/{session_id}/complete", body)

    def advance(
        self, subscription_id: str, outcome: str = "paid", on_exhausted: str = "cancel"
    ) -> dict[str, Any]:
        """End the subscription's current period now (renew, fail, or end a cancel-at-period-end)."""
        return self._control(
            f"/_emulator/subscriptions/{subscription_id}/advance",
            {"outcome": outcome, "on_exhausted": on_exhausted},
        )

    def upcoming(self, subscription_id: str) -> dict[str, Any]:
        """Send `invoice.upcoming` for the next renewal now; answers the upcoming invoice."""
        return self._control(f"/_emulator/subscriptions/{subscription_id}/upcoming", {})

    def pause(self, subscription_id: str, behavior: str = "void") -> dict[str, Any]:
        """Pause collection as the Customer Portal does (`pause_collection[behavior]`)."""
        return self._control(f"/_emulator/subscriptions/{subscription_id}/pause", {"behavior": behavior})

    def unpause(self, subscription_id: str) -> dict[str, Any]:
        """Resume collection (clear `pause_collection`)."""
        return self._control(f"/_emulator/subscriptions/{subscription_id}/unpause", {})

    def refund(self, invoice_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund a paid invoice's charge (all of what is left unless `amount`): `charge.refunded`."""
        body: dict[str, Any] = {} if amount is None else {"amount": amount}
        return self._control(f"/_emulator/invoices/{invoice_id}/refund", body)

    def dispute(self, invoice_id: str, reason: str = "fraudulent") -> dict[str, Any]:
        """The shopper's bank disputes a paid invoice's charge: `charge.dispute.created`."""
        return self._control(f"/_emulator/invoices/{invoice_id}/dispute", {"reason": reason})

    def set_webhooks(self, enabled: bool) -> dict[str, Any]:
        """Turn webhook delivery off (events are still created and listed, not sent) or back on."""
        return self._control("/_emulator/webhooks", {"enabled": enabled})

    def deliver(self, event_id: str) -> dict[str, Any]:
        """Send one event now, whether or not it was sent before: `{"id", "delivered", "status"}`."""
        return self._control(f"/_emulator/events/{event_id}/deliver", {})

    def _control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                result: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            result = json.loads(exc.read())
        return result
