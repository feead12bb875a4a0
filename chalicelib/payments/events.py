"""Stripe's webhook events as typed values: only the fields the service reads, checked on the way in.

Shapes follow the API version the code pins (`2026-10-28.endive`): a subscription's periods live
on its items, an invoice names its subscription through `parent.subscription_details`. A signed
body that is not a well-formed event of a handled type is refused (400, naming the field); an
event of a type the service does not handle needs only an `id` and a `type`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from chalicelib.domain.membership import SubscriptionSnapshot, dunning_started_at
from chalicelib.domain.patterns import whole
from chalicelib.errors import ValidationError

NonEmpty = Annotated[str, Meta(min_length=1)]
Metadata = dict[str, str]


class Recurring(msgspec.Struct):
    interval: str
    interval_count: int = 1


class Price(msgspec.Struct):
    id: NonEmpty
    lookup_key: str | None = None
    metadata: Metadata = {}
    unit_amount: int | None = None
    currency: str | None = None
    recurring: Recurring | None = None


class SubscriptionItem(msgspec.Struct):
    price: Price
    current_period_start: int
    current_period_end: int
    quantity: int = 1


class SubscriptionItems(msgspec.Struct):
    data: list[SubscriptionItem]


class PauseCollection(msgspec.Struct):
    behavior: NonEmpty
    resumes_at: int | None = None


class Subscription(msgspec.Struct):
    id: NonEmpty
    customer: NonEmpty
    status: NonEmpty
    created: int
    items: SubscriptionItems
    cancel_at_period_end: bool = False
    canceled_at: int | None = None
    ended_at: int | None = None
    # Set while collection is paused (the subscription stays `active`); null otherwise.
    pause_collection: PauseCollection | None = None
    metadata: Metadata = {}


class CheckoutSession(msgspec.Struct):
    id: NonEmpty
    customer: str | None = None
    subscription: str | None = None
    client_reference_id: str | None = None
    metadata: Metadata | None = None
    # A one-time payment (a gift membership): mode `payment`, what was paid.
    mode: str | None = None
    payment_status: str | None = None
    amount_total: int | None = None
    currency: str | None = None


class SubscriptionDetails(msgspec.Struct):
    subscription: str | None = None
    metadata: Metadata | None = None


class InvoiceParent(msgspec.Struct):
    subscription_details: SubscriptionDetails | None = None


class StatusTransitions(msgspec.Struct):
    paid_at: int | None = None


class LinePeriod(msgspec.Struct):
    start: int
    end: int


class InvoiceLine(msgspec.Struct):
    period: LinePeriod | None = None


class InvoiceLines(msgspec.Struct):
    data: list[InvoiceLine] = []


class Invoice(msgspec.Struct):
    id: NonEmpty
    customer: NonEmpty
    currency: Annotated[str, Meta(pattern=whole("[a-z]{3}"))]
    amount_paid: Annotated[int, Meta(ge=0)]
    created: int
    status_transitions: StatusTransitions
    parent: InvoiceParent | None = None
    # `subscription_create`, `subscription_cycle` (a renewal), `subscription_update`, `upcoming`, ...
    billing_reason: str | None = None
    amount_due: int | None = None
    # An upcoming invoice: when Stripe will try to collect it (the renewal).
    next_payment_attempt: int | None = None
    lines: InvoiceLines | None = None

    @property
    def period(self) -> tuple[int, int] | None:
        """The period the invoice pays for (its first line's)."""
        first = self.lines.data[0] if self.lines and self.lines.data else None
        return (first.period.start, first.period.end) if first and first.period else None

    @property
    def renews(self) -> bool:
        return self.billing_reason == "subscription_cycle"

    @property
    def subscription_id(self) -> str | None:
        details = self.parent.subscription_details if self.parent else None
        return details.subscription if details and details.subscription else None

    @property
    def subscription_metadata(self) -> Metadata:
        details = self.parent.subscription_details if self.parent else None
        return (details.metadata or {}) if details else {}


class Charge(msgspec.Struct):
    """A charge (`charge.refunded`): whose it was."""

    id: NonEmpty
    customer: str | None = None


class Dispute(msgspec.Struct):
    """A dispute (`charge.dispute.created`) names only its charge."""

    id: NonEmpty
    charge: NonEmpty


StripeObject = Subscription | CheckoutSession | Invoice | Charge | Dispute

# Which object each handled event type carries.
HANDLED_TYPES: dict[str, type[StripeObject]] = {
    "checkout.session.completed": CheckoutSession,
    "customer.subscription.created": Subscription,
    "customer.subscription.updated": Subscription,
    "customer.subscription.deleted": Subscription,
    "customer.subscription.paused": Subscription,
    "customer.subscription.resumed": Subscription,
    "invoice.paid": Invoice,
    "invoice.payment_failed": Invoice,
    "invoice.upcoming": Invoice,
    "charge.refunded": Charge,
    "charge.dispute.created": Dispute,
}


class _Envelope(msgspec.Struct):
    id: NonEmpty
    type: NonEmpty


class _Data(msgspec.Struct):
    object: msgspec.Raw


class _HandledEnvelope(msgspec.Struct):
    id: NonEmpty
    type: NonEmpty
    created: int
    data: _Data


class StripeEvent(msgspec.Struct, frozen=True):
    """A verified event of a handled type, with its object typed."""

    id: str
    type: str
    created: int
    object: StripeObject


class IgnoredEvent(msgspec.Struct, frozen=True):
    """A verified event of a type the service does not handle."""

    id: str
    type: str


def parse_event(payload: bytes) -> StripeEvent | IgnoredEvent:
    """The typed event of a verified body, or ValidationError (400) naming the offending field."""
    envelope = _decode(payload, _Envelope, "")
    object_type = HANDLED_TYPES.get(envelope.type)
    if object_type is None:
        return IgnoredEvent(envelope.id, envelope.type)
    handled = _decode(payload, _HandledEnvelope, "")
    obj = _decode(handled.data.object, object_type, "data.object")
    if isinstance(obj, Subscription) and not obj.items.data:
        raise ValidationError(
            "The subscription has no items.", param="data.object.items.data", code="invalid_event"
        )
    return StripeEvent(handled.id, handled.type, handled.created, obj)


def subscription_from_api(subscription: dict[str, Any]) -> Subscription:
    """A subscription read from Stripe's API, as the same typed value a webhook carries."""
    return msgspec.convert(subscription, Subscription)


def snapshot_of(subscription: Subscription, observed_at: float) -> SubscriptionSnapshot:
    """What the service stores of a subscription (periods from its first item)."""
    item = subscription.items.data[0]
    price = item.price
    pause = subscription.pause_collection
    return SubscriptionSnapshot(
        subscription_id=subscription.id,
        status=subscription.status,
        price_id=price.id,
        # What this subscription pays, at its own Price (an older Price keeps its amount).
        unit_amount=price.unit_amount,
        currency=price.currency,
        interval=price.recurring.interval if price.recurring else None,
        interval_count=price.recurring.interval_count if price.recurring else 1,
        quantity=item.quantity,
        # Each plan's Prices carry its id; an older Price keeps it after the lookup key moves on.
        plan_id=price.metadata.get("plan_id") or price.lookup_key or subscription.metadata.get("plan_id"),
        current_period_start=item.current_period_start,
        current_period_end=item.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        past_due_since=dunning_started_at(subscription.status, item.current_period_start),
        created=subscription.created,
        canceled_at=subscription.canceled_at,
        ended_at=subscription.ended_at,
        pause_behavior=pause.behavior if pause else None,
        pause_resumes_at=pause.resumes_at if pause else None,
        observed_at=observed_at,
    )


_WHERE = re.compile(r" - at `\$\.?([^`]*)`$")
_NAMED = re.compile(r"(?:missing required field|unknown field) `([^`]+)`")


def _decode(raw: bytes | msgspec.Raw, type_: type[Any], prefix: str) -> Any:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        message = str(exc)
        where = _WHERE.search(message)
        path = [prefix] if prefix else []
        if where and where.group(1):
            path.append(where.group(1))
        named = _NAMED.search(message)
        if named:
            path.append(named.group(1))
        text = _WHERE.sub("", message)
        raise ValidationError(
            f"The event is not well-formed: {text}.", param=".".join(path) or None, code="invalid_event"
        ) from exc
    except msgspec.DecodeError as exc:
        raise ValidationError(f"The event is not valid JSON: {exc}.", code="invalid_json") from exc
