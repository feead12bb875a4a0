"""The emulated Stripe account: its objects, the clock, and the events operations cause.

Every operation runs under `Stripe.lock` and returns the events it produced; the server delivers them after
releasing the lock (the API receiving a webhook may call back into the emulator). Objects handed out are deep
copies, so an event's `data.object` is the state at that moment.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from localdev.stripe_emulator.errors import Obj, missing
from localdev.stripe_emulator.objects import build, new_id

API_VERSION = "2026-10-28.endive"


@dataclass
class Account:
    """Everything one emulated Stripe account holds, by collection (each object's id → the object)."""

    customers: dict[str, Obj] = field(default_factory=dict)
    products: dict[str, Obj] = field(default_factory=dict)
    prices: dict[str, Obj] = field(default_factory=dict)
    checkout_sessions: dict[str, Obj] = field(default_factory=dict)
    # What a session will create on payment (price, quantity, subscription_data), kept off the object.
    checkout_terms: dict[str, Obj] = field(default_factory=dict)
    portal_sessions: dict[str, Obj] = field(default_factory=dict)
    subscriptions: dict[str, Obj] = field(default_factory=dict)
    invoices: dict[str, Obj] = field(default_factory=dict)
    coupons: dict[str, Obj] = field(default_factory=dict)
    promotion_codes: dict[str, Obj] = field(default_factory=dict)
    discounts: dict[str, Obj] = field(default_factory=dict)
    # Discount id → invoices it has reduced so far (`duration: once` ends after one), kept off the object.
    discount_uses: dict[str, int] = field(default_factory=dict)
    balance_transactions: dict[str, Obj] = field(default_factory=dict)
    payment_intents: dict[str, Obj] = field(default_factory=dict)
    charges: dict[str, Obj] = field(default_factory=dict)
    refunds: dict[str, Obj] = field(default_factory=dict)
    disputes: dict[str, Obj] = field(default_factory=dict)
    # Endive's invoices reach their payments only through these (`GET /v1/invoice_payments?invoice=`).
    invoice_payments: dict[str, Obj] = field(default_factory=dict)
    # Customer id → the card they pay with (kept off the customer object; see resources/payments.py).
    customer_cards: dict[str, Obj] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    # Idempotency-Key → (request fingerprint, status, response body)
    idempotency: dict[str, tuple[str, int, Obj]] = field(default_factory=dict)
    # Every Stripe API request received, as `METHOD /path`, oldest first (tests count them).
    requests: list[str] = field(default_factory=list)


class Stripe:
    """The account, its lock and clock (`clock()` is "now" in unix seconds); `base_url` builds page URLs."""

    def __init__(self, base_url: str = "", clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url
        self.clock = clock
        self.lock = threading.RLock()
        self.account = Account()
        self._request: Obj = {"id": None, "idempotency_key": None}

    def reset(self) -> None:
        with self.lock:
            self.account = Account()

    def now(self) -> int:
        """Stripe's timestamps are whole seconds."""
        return int(self.clock())

    def event(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """Record an event with a snapshot of `obj` (and `previous_attributes` on updates)."""
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = build(
            "event",
            id=new_id("evt"),
            api_version=API_VERSION,
            created=self.now(),
            data=data,
            request=dict(self._request),
            type=type_,
        )
        self.account.events.append(event)
        return event

    def set_request(self, request_id: str | None, idempotency_key: str | None) -> None:
        """The API request that the next events are attributed to (None for automatic ones)."""
        self._request = {"id": request_id, "idempotency_key": idempotency_key}

    def get(self, collection: str, kind: str, object_id: str) -> Obj:
        """The object `object_id` of `collection` (e.g. "subscriptions"), or Stripe's 404 naming `kind`."""
        found: Obj | None = getattr(self.account, collection).get(object_id)
        if found is None:
            raise missing(kind, object_id)
        return found


def merge_metadata(current: Obj, update: Obj | str) -> Obj:
    """Stripe's metadata update: keys are merged, an empty value removes a key, "" clears all."""
    if isinstance(update, str):
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "" or value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
