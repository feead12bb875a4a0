"""Subscriptions: `GET /v1/subscriptions`, `GET/POST/DELETE /v1/subscriptions/{id}`.

Checkout creates them (`create`); what happens to them over time is billing.py.
"""

from __future__ import annotations

import copy

from localdev.stripe_emulator import billing
from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe, merge_metadata
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.resources.subscription_items import new_item
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

SUBSCRIPTION_UPDATE: p.Spec = {
    "cancel_at_period_end": p.boolean,
    "items": [{"id": p.string, "price": p.string, "quantity": p.integer}],
    "proration_behavior": p.one_of("create_prorations", "always_invoice", "none"),
    "metadata": p.metadata,
    "pause_collection": {
        "behavior": p.one_of("keep_as_draft", "mark_uncollectible", "void"),
        "resumes_at": p.integer,
    },
    **p.EXPAND,
}
SUBSCRIPTION_PAUSE: p.Spec = {"type": p.one_of("subscription"), **p.EXPAND}
SUBSCRIPTION_RESUME: p.Spec = {
    "billing_cycle_anchor": p.one_of("now", "unchanged"),
    "payment_behavior": p.one_of("resume_on_payment_attempt", "resume_on_payment_success"),
    **p.EXPAND,
}
SUBSCRIPTION_CANCEL: p.Spec = {"invoice_now": p.boolean, "prorate": p.boolean, **p.EXPAND}
SUBSCRIPTION_LIST: p.Spec = {
    **p.LIST,
    "customer": p.string,
    "price": p.string,
    "status": p.one_of(
        "active",
        "all",
        "canceled",
        "ended",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    ),
}


def create(
    stripe: Stripe,
    customer_id: str,
    price: Obj,
    quantity: int,
    *,
    metadata: Obj,
    trial_days: int | None,
    payment_method: str,
) -> tuple[Obj, list[Obj]]:
    """A subscription to `price`, paid by `payment_method`: created `incomplete`, then billing starts it."""
    now = stripe.now()
    subscription_id = new_id("sub")
    end = now + int(trial_days) * 86_400 if trial_days else billing.next_period_end(price, now)
    subscription = build(
        "subscription",
        id=subscription_id,
        billing_cycle_anchor=end if trial_days else now,
        billing_mode={
            "type": "flexible",
            "flexible": {"proration_discounts": "included"},
            "updated_at": now,  # flexible billing mode, adopted at creation
        },
        created=now,
        currency=price["currency"],
        customer=customer_id,
        default_payment_method=payment_method,
        items={
            "object": "list",
            "data": [new_item(subscription_id, price, quantity, now, end)],
            "has_more": False,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        metadata=metadata,
        start_date=now,
        trial_end=end if trial_days else None,
        trial_start=now if trial_days else None,
    )
    stripe.account.subscriptions[subscription_id] = subscription
    events = [stripe.event("customer.subscription.created", subscription)]
    return subscription, events + billing.start(stripe, subscription)


def update(stripe: Stripe, subscription_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    if subscription["status"] in ("canceled", "incomplete_expired"):
        raise StripeError(
            f"A canceled subscription can only update its cancellation_details and metadata. "
            f"({subscription_id} is {subscription['status']})",
            param=next(iter(params), None),
        )
    previous: Obj = {}
    events: list[Obj] = []
    if "metadata" in params:
        previous["metadata"] = copy.deepcopy(subscription["metadata"])
        subscription["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    if "cancel_at_period_end" in params:
        _cancel_at_period_end(stripe, subscription, bool(params["cancel_at_period_end"]), previous)
    if "pause_collection" in params:
        _pause_collection(subscription, params["pause_collection"], previous)
    if "items" in params:
        events += billing.switch_price(stripe, subscription, params, previous)
    if previous:
        events.insert(0, stripe.event("customer.subscription.updated", subscription, previous))
    return subscription, events


def _cancel_at_period_end(stripe: Stripe, subscription: Obj, wanted: bool, previous: Obj) -> None:
    if wanted == subscription["cancel_at_period_end"]:
        return
    for key in ("cancel_at", "cancel_at_period_end", "canceled_at", "cancellation_details"):
        previous[key] = copy.deepcopy(subscription[key])
    subscription["cancel_at_period_end"] = wanted
    subscription["cancel_at"] = subscription["items"]["data"][0]["current_period_end"] if wanted else None
    subscription["canceled_at"] = stripe.now() if wanted else None
    subscription["cancellation_details"] = {
        "comment": None,
        "feedback": None,
        "feedback_option": None,
        "reason": "cancellation_requested" if wanted else None,
    }


def _pause_collection(subscription: Obj, setting: Obj | None, previous: Obj) -> None:
    """Set (`behavior`, `resumes_at`) or clear (`pause_collection=""`) the pause of collection."""
    if setting is not None:
        p.require(setting, "behavior")
        setting = {"behavior": setting["behavior"], "resumes_at": setting.get("resumes_at")}
    if setting != subscription["pause_collection"]:
        previous["pause_collection"] = copy.deepcopy(subscription["pause_collection"])
        subscription["pause_collection"] = setting


def list_of(stripe: Stripe, params: Obj) -> list[Obj]:
    subscriptions = list(stripe.account.subscriptions.values())
    status = params.get("status")
    if status is None:
        # Stripe's default list leaves canceled subscriptions out; `status=all` includes them.
        subscriptions = [s for s in subscriptions if s["status"] != "canceled"]
    elif status != "all":
        subscriptions = [s for s in subscriptions if s["status"] == status]
    if "customer" in params:
        subscriptions = [s for s in subscriptions if s["customer"] == params["customer"]]
    if "price" in params:
        subscriptions = [s for s in subscriptions if s["items"]["data"][0]["price"]["id"] == params["price"]]
    return subscriptions


ROUTES = Routes()


@ROUTES.add("GET", "/v1/subscriptions")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, SUBSCRIPTION_LIST)
    return page(req, list_of(req.stripe, req.params), "/v1/subscriptions")


@ROUTES.add("GET", "/v1/subscriptions/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("subscriptions", "subscription", req["id"]))


@ROUTES.add("POST", "/v1/subscriptions/{id}")
def _update(req: Request) -> Result:
    return 200, *update(req.stripe, req["id"], p.parse(req.params, SUBSCRIPTION_UPDATE))


@ROUTES.add("POST", "/v1/subscriptions/{id}/pause")
def _pause(req: Request) -> Result:
    p.parse(req.params, SUBSCRIPTION_PAUSE)
    return 200, *billing.pause(req.stripe, req["id"])


@ROUTES.add("POST", "/v1/subscriptions/{id}/resume")
def _resume(req: Request) -> Result:
    params = p.parse(req.params, SUBSCRIPTION_RESUME)
    return 200, *billing.resume(req.stripe, req["id"], params.get("billing_cycle_anchor", "now"))


@ROUTES.add("DELETE", "/v1/subscriptions/{id}")
def _cancel(req: Request) -> Result:
    p.parse(req.params, SUBSCRIPTION_CANCEL)
    return 200, *billing.cancel(req.stripe, req["id"])
