"""The billing lifecycle: first invoice, renewals, failed payments and retries, plan switches, the end.

Time comes from the account's clock (`Stripe(clock=...)`, the machine's time by default): every period
boundary, invoice date and event timestamp below is `stripe.now()`, so a test can inject its own clock.
`advance` compresses what Stripe does over a period (renew at the period's end, Smart Retries) into one call.
"""

from __future__ import annotations

import copy

from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.periods import add_interval
from localdev.stripe_emulator.resources import invoices, payments
from localdev.stripe_emulator.resources.subscription_items import new_item

Outcome = tuple[Obj, list[Obj]]
RETRY_AFTER_SECONDS = 3 * 86_400


def next_period_end(price: Obj, start: int) -> int:
    recurring = price["recurring"]
    return add_interval(start, recurring["interval"], recurring["interval_count"])


def pay(stripe: Stripe, invoice: Obj) -> list[Obj]:
    """The card is charged (a Charge when anything is due): `invoice.paid`, `invoice.payment_succeeded`."""
    if invoice["amount_due"] > 0:
        subscription = stripe.account.subscriptions.get(invoices.subscription_of(invoice) or "")
        intent, _ = payments.charge(
            stripe,
            invoice["amount_due"],
            invoice["currency"],
            customer=invoice["customer"],
            payment_method=subscription["default_payment_method"] if subscription else None,
            description="Subscription update" if invoice["billing_reason"] == "subscription_update" else None,
            email=invoice["customer_email"],
        )
        payments.record_invoice_payment(stripe, invoice, intent)
    invoice.update(
        {
            "amount_paid": invoice["amount_due"],
            "amount_remaining": 0,
            "attempt_count": invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
            "attempted": True,
            "next_payment_attempt": None,
            "status": "paid",
        }
    )
    invoice["status_transitions"]["paid_at"] = stripe.now()
    return [stripe.event("invoice.paid", invoice), stripe.event("invoice.payment_succeeded", invoice)]


def fail(stripe: Stripe, invoice: Obj, retry_at: int | None) -> list[Obj]:
    """The card is declined: `invoice.payment_failed`, with the next retry (None: retries exhausted)."""
    invoice.update(
        {"attempt_count": invoice["attempt_count"] + 1, "attempted": True, "next_payment_attempt": retry_at}
    )
    return [stripe.event("invoice.payment_failed", invoice)]


def start(stripe: Stripe, subscription: Obj) -> list[Obj]:
    """A new `incomplete` subscription pays its first invoice (zero in a trial): active or trialing."""
    item = subscription["items"]["data"][0]
    trialing = subscription["trial_end"] is not None
    amount = 0 if trialing else item["price"]["unit_amount"] * item["quantity"]
    invoice, events = invoices.create(
        stripe,
        subscription,
        "subscription_create",
        amount,
        item["current_period_start"],
        item["current_period_end"],
    )
    events += pay(stripe, invoice)
    previous = {"status": subscription["status"], "latest_invoice": subscription["latest_invoice"]}
    subscription["status"] = "trialing" if trialing else "active"
    subscription["latest_invoice"] = invoice["id"]
    events.append(stripe.event("customer.subscription.updated", subscription, previous))
    return events


def advance(stripe: Stripe, subscription_id: str, outcome: str, on_exhausted: str) -> Outcome:
    """End the current period now: renew, fail the renewal, or end a subscription set to cancel."""
    if outcome not in ("paid", "payment_failed"):
        raise StripeError("outcome must be `paid` or `payment_failed`.", param="outcome")
    if on_exhausted not in ("cancel", "mark_unpaid"):
        raise StripeError("on_exhausted must be `cancel` or `mark_unpaid`.", param="on_exhausted")
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    status = subscription["status"]
    if status in ("canceled", "incomplete_expired", "incomplete", "paused"):
        raise StripeError(f"Subscription {subscription_id} is {status}; it has no period to advance.")
    if subscription["cancel_at_period_end"]:
        return cancel(stripe, subscription_id, reason="cancellation_requested")
    unpaid = invoices.open_invoice(stripe, subscription_id)
    if status in ("past_due", "unpaid") and unpaid is not None:
        return _retry(stripe, subscription, unpaid, outcome, on_exhausted)
    return _renew(stripe, subscription, outcome)


def upcoming(stripe: Stripe, subscription_id: str) -> Outcome:
    """`invoice.upcoming`: a preview of the invoice the next renewal will bring (nothing is stored)."""
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    if (
        subscription["status"] not in ("active", "trialing", "past_due")
        or subscription["cancel_at_period_end"]
    ):
        raise StripeError(
            f"Subscription {subscription_id} has no upcoming renewal ({subscription['status']})."
        )
    item = subscription["items"]["data"][0]
    start = item["current_period_end"]
    amount = item["price"]["unit_amount"] * item["quantity"]
    end = next_period_end(item["price"], start)
    preview = invoices.draft(stripe, subscription, "upcoming", amount, start, end, preview=True)
    return preview, [stripe.event("invoice.upcoming", preview)]


def _renew(stripe: Stripe, subscription: Obj, outcome: str) -> Outcome:
    now = stripe.now()
    item = subscription["items"]["data"][0]
    previous: Obj = {"items": copy.deepcopy(subscription["items"])}
    _resume_collection_if_due(stripe, subscription, previous)
    end = next_period_end(item["price"], now)
    item["current_period_start"], item["current_period_end"] = now, end
    if subscription["status"] == "trialing":
        previous["trial_end"] = subscription["trial_end"]
        subscription["trial_end"] = now
    amount = item["price"]["unit_amount"] * item["quantity"]
    paused = (subscription["pause_collection"] or {}).get("behavior")
    invoice, created = invoices.create(
        stripe, subscription, "subscription_cycle", amount, now, end, finalize=paused != "keep_as_draft"
    )
    events = created
    previous["latest_invoice"] = subscription["latest_invoice"]
    subscription["latest_invoice"] = invoice["id"]
    previous["status"] = subscription["status"]
    if paused:
        # Collection is paused: the invoice is not charged; the subscription stays as it was (Stripe).
        if paused != "keep_as_draft":
            events += invoices.close(stripe, invoice, "void" if paused == "void" else "uncollectible")
    elif outcome == "paid":
        events += pay(stripe, invoice)
        subscription["status"] = "active"
    else:
        events += fail(stripe, invoice, retry_at=now + RETRY_AFTER_SECONDS)
        subscription["status"] = "past_due"
    if previous["status"] == subscription["status"]:
        del previous["status"]
    events.append(stripe.event("customer.subscription.updated", subscription, previous))
    return subscription, events


def _resume_collection_if_due(stripe: Stripe, subscription: Obj, previous: Obj) -> None:
    """`pause_collection[resumes_at]` has passed: collection resumes (Stripe clears the setting)."""
    resumes_at = (subscription["pause_collection"] or {}).get("resumes_at")
    if resumes_at is not None and resumes_at <= stripe.now():
        previous["pause_collection"] = subscription["pause_collection"]
        subscription["pause_collection"] = None


def pause(stripe: Stripe, subscription_id: str) -> Outcome:
    """Stripe's `paused` status (flexible billing mode): no new periods nor invoices until it resumes."""
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    if subscription["billing_mode"]["type"] != "flexible":
        raise StripeError("Pausing a subscription requires the flexible billing mode.", param="billing_mode")
    if subscription["status"] not in ("active", "trialing", "past_due"):
        raise StripeError(f"Subscription {subscription_id} is {subscription['status']} and cannot be paused.")
    previous = {"status": subscription["status"]}
    subscription["status"] = "paused"
    return subscription, [
        stripe.event("customer.subscription.paused", subscription),
        stripe.event("customer.subscription.updated", subscription, previous),
    ]


def resume(stripe: Stripe, subscription_id: str, anchor: str) -> Outcome:
    """A `paused` subscription resumes: with `billing_cycle_anchor` `now` (Stripe's default) a new period
    starts and is invoiced and paid at once; with `unchanged` the period is kept and nothing is billed."""
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    if subscription["status"] != "paused":
        raise StripeError(f"Subscription {subscription_id} is not paused ({subscription['status']}).")
    previous: Obj = {"status": "paused"}
    events: list[Obj] = []
    if anchor == "now":
        now = stripe.now()
        item = subscription["items"]["data"][0]
        previous.update(
            items=copy.deepcopy(subscription["items"]), latest_invoice=subscription["latest_invoice"]
        )
        end = next_period_end(item["price"], now)
        item["current_period_start"], item["current_period_end"] = now, end
        subscription["billing_cycle_anchor"] = now
        amount = item["price"]["unit_amount"] * item["quantity"]
        invoice, events = invoices.create(stripe, subscription, "subscription_cycle", amount, now, end)
        events += pay(stripe, invoice)
        subscription["latest_invoice"] = invoice["id"]
    subscription["status"] = "active"
    events += [
        stripe.event("customer.subscription.resumed", subscription),
        stripe.event("customer.subscription.updated", subscription, previous),
    ]
    return subscription, events


def _retry(stripe: Stripe, subscription: Obj, invoice: Obj, outcome: str, on_exhausted: str) -> Outcome:
    """A payment retry of the open invoice of a past_due subscription (Smart Retries, compressed)."""
    if outcome == "paid":
        events = pay(stripe, invoice)
        previous = {"status": subscription["status"]}
        subscription["status"] = "active"
        events.append(stripe.event("customer.subscription.updated", subscription, previous))
        return subscription, events
    events = fail(stripe, invoice, retry_at=None)
    if on_exhausted == "cancel":
        _, ended = cancel(stripe, subscription["id"], reason="payment_failed")
        return subscription, events + ended
    if subscription["status"] != "unpaid":
        previous = {"status": subscription["status"]}
        subscription["status"] = "unpaid"
        events.append(stripe.event("customer.subscription.updated", subscription, previous))
    return subscription, events


def cancel(stripe: Stripe, subscription_id: str, reason: str = "cancellation_requested") -> Outcome:
    """The subscription ends now; its open invoices are voided (`customer.subscription.deleted`)."""
    subscription = stripe.get("subscriptions", "subscription", subscription_id)
    if subscription["status"] == "canceled":
        raise StripeError(
            f"This subscription is already canceled: '{subscription_id}'", code="resource_missing", status=404
        )
    now = stripe.now()
    subscription.update(
        {
            "status": "canceled",
            "canceled_at": subscription["canceled_at"] or now,
            "ended_at": now,
            "cancel_at": subscription["cancel_at"] or now,
            "cancellation_details": {
                "comment": None,
                "feedback": None,
                "feedback_option": None,
                "reason": reason,
            },
        }
    )
    for invoice in stripe.account.invoices.values():
        if invoices.subscription_of(invoice) == subscription_id and invoice["status"] == "open":
            invoice["status"] = "void"
            invoice["status_transitions"]["voided_at"] = now
    return subscription, [stripe.event("customer.subscription.deleted", subscription)]


def switch_price(stripe: Stripe, subscription: Obj, params: Obj, previous: Obj) -> list[Obj]:
    """`items[0][price]` with `proration_behavior`: same interval keeps the period, another restarts it."""
    items = params["items"]
    if len(items) != 1:
        raise StripeError("Update exactly one subscription item.", param="items")
    change = items[0]
    item = subscription["items"]["data"][0]
    if change.get("id") not in (None, item["id"]):
        raise missing("subscription_item", change["id"], param="items[0][id]")
    price_id = change.get("price")
    if not price_id:
        raise StripeError("Missing required param: items[0][price].", param="items[0][price]")
    price = stripe.account.prices.get(price_id)
    if price is None:
        raise missing("price", price_id, param="items[0][price]")
    if price["currency"] != subscription["currency"]:
        raise StripeError(
            "The price's currency must match the subscription's currency.", param="items[0][price]"
        )
    behavior = params.get("proration_behavior", "create_prorations")
    now = stripe.now()
    old_price = item["price"]
    start, end = item["current_period_start"], item["current_period_end"]
    previous["items"] = copy.deepcopy(subscription["items"])
    old_cycle = (old_price["recurring"]["interval"], old_price["recurring"]["interval_count"])
    same_interval = old_cycle == (price["recurring"]["interval"], price["recurring"]["interval_count"])
    quantity = change.get("quantity", item["quantity"])
    if same_interval:
        replacement = new_item(subscription["id"], price, quantity, start, end)
    else:
        # A new interval resets the billing cycle: a new period starts now (as Stripe does).
        replacement = new_item(subscription["id"], price, quantity, now, next_period_end(price, now))
        subscription["billing_cycle_anchor"] = now
    replacement["id"], replacement["created"] = item["id"], item["created"]
    subscription["items"]["data"][0] = replacement
    if behavior != "always_invoice" and same_interval:
        return []
    remaining = max(0.0, (end - now) / max(1, end - start))
    credit = round(old_price["unit_amount"] * item["quantity"] * remaining)
    charge = (
        round(price["unit_amount"] * quantity * remaining)
        if same_interval
        else price["unit_amount"] * quantity
    )
    invoice, events = invoices.create(
        stripe,
        subscription,
        "subscription_update",
        max(0, charge - credit),
        replacement["current_period_start"],
        replacement["current_period_end"],
        proration=True,
    )
    events += pay(stripe, invoice)
    previous["latest_invoice"] = subscription["latest_invoice"]
    subscription["latest_invoice"] = invoice["id"]
    return events
