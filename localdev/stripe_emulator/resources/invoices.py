"""Invoices and their lines: `GET /v1/invoices` (`customer`, `subscription`, `status`), `GET .../{id}`.

`create` finalizes a subscription's invoice at once (Stripe's `charge_automatically` flow); paying or failing
it is the billing lifecycle's part (billing.py).
"""

from __future__ import annotations

import copy

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.resources.products import name_of
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

INVOICE_LIST: p.Spec = {
    **p.LIST,
    "customer": p.string,
    "subscription": p.string,
    "status": p.one_of("draft", "open", "paid", "uncollectible", "void"),
}


def subscription_of(invoice: Obj) -> str | None:
    """The id of the subscription that billed `invoice` (endive: only through `parent`)."""
    details = invoice["parent"]["subscription_details"]
    return None if details is None else details["subscription"]


def _line(
    stripe: Stripe, subscription: Obj, invoice_id: str, amount: int, start: int, end: int, proration: bool
) -> Obj:
    item = subscription["items"]["data"][0]
    price = item["price"]
    name = name_of(stripe, price)
    return build(
        "line_item",
        id=new_id("il"),
        amount=amount,
        currency=price["currency"],
        description=(
            f"Remaining time on {item['quantity']} × {name} after a plan change"
            if proration
            else f"{item['quantity']} × {name} "
            f"(at {price['unit_amount']} {price['currency']} / {price['recurring']['interval']})"
        ),
        invoice=invoice_id,
        parent={
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        period={"end": end, "start": start},
        pricing={
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        quantity=item["quantity"],
        quantity_decimal=str(item["quantity"]),
        subscription=subscription["id"],
        subtotal=amount,
    )


def draft(
    stripe: Stripe,
    subscription: Obj,
    reason: str,
    amount: int,
    start: int,
    end: int,
    *,
    proration: bool = False,
    preview: bool = False,
) -> Obj:
    """A draft invoice of `amount` for `subscription` (not stored). A `preview` is the upcoming invoice:
    id `upcoming_in_...`, no number, no page, due when the period starts."""
    customer = stripe.account.customers[subscription["customer"]]
    currency = subscription["items"]["data"][0]["price"]["currency"]
    invoice_id = new_id("upcoming_in" if preview else "in")
    now = stripe.now()
    if preview:
        number = None
    else:
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
    line = _line(stripe, subscription, invoice_id, amount, start, end, proration)
    return build(
        "invoice",
        id=invoice_id,
        amount_due=amount,
        amount_remaining=amount,
        billing_reason=reason,
        created=now,
        currency=currency,
        customer=customer["id"],
        customer_email=customer["email"],
        customer_name=customer["name"],
        effective_at=None if preview else now,
        hosted_invoice_url=None if preview else f"{stripe.base_url}/invoice/{invoice_id}",
        lines={
            "object": "list",
            "data": [line],
            "has_more": False,
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        next_payment_attempt=start if preview else None,
        number=number,
        parent={
            "quote_details": None,
            "subscription_details": {
                "metadata": copy.deepcopy(subscription["metadata"]),
                # `subscription_proration_date` is sent only for previews of prorations.
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        period_end=start,
        period_start=start,
        status="draft",
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        subtotal=amount,
        subtotal_excluding_tax=amount,
        total=amount,
        total_excluding_tax=amount,
        webhooks_delivered_at=None if preview else now,
    )


def create(
    stripe: Stripe,
    subscription: Obj,
    reason: str,
    amount: int,
    start: int,
    end: int,
    *,
    proration: bool = False,
    finalize: bool = True,
) -> tuple[Obj, list[Obj]]:
    """An invoice of `amount` for `subscription`: `invoice.created` and (unless kept as a draft) finalized."""
    invoice = draft(stripe, subscription, reason, amount, start, end, proration=proration)
    stripe.account.invoices[invoice["id"]] = invoice
    events = [stripe.event("invoice.created", invoice)]
    if finalize:
        invoice["status"] = "open"
        invoice["status_transitions"]["finalized_at"] = stripe.now()
        events.append(stripe.event("invoice.finalized", invoice))
    return invoice, events


def close(stripe: Stripe, invoice: Obj, status: str) -> list[Obj]:
    """An open invoice is voided (`void`) or written off (`uncollectible`): `invoice.voided` or
    `invoice.marked_uncollectible`."""
    invoice.update(
        {"status": status, "amount_remaining": 0 if status == "void" else invoice["amount_remaining"]}
    )
    transition = "voided_at" if status == "void" else "marked_uncollectible_at"
    invoice["status_transitions"][transition] = stripe.now()
    return [stripe.event("invoice.voided" if status == "void" else "invoice.marked_uncollectible", invoice)]


def open_invoice(stripe: Stripe, subscription_id: str) -> Obj | None:
    """The subscription's newest open (unpaid) invoice."""
    return next(
        (
            inv
            for inv in reversed(stripe.account.invoices.values())
            if subscription_of(inv) == subscription_id and inv["status"] == "open"
        ),
        None,
    )


def list_of(stripe: Stripe, params: Obj) -> list[Obj]:
    invoices = list(stripe.account.invoices.values())
    if "customer" in params:
        invoices = [i for i in invoices if i["customer"] == params["customer"]]
    if "subscription" in params:
        invoices = [i for i in invoices if subscription_of(i) == params["subscription"]]
    if "status" in params:
        invoices = [i for i in invoices if i["status"] == params["status"]]
    return invoices


ROUTES = Routes()


@ROUTES.add("GET", "/v1/invoices")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, INVOICE_LIST)
    return page(req, list_of(req.stripe, req.params), "/v1/invoices")


@ROUTES.add("GET", "/v1/invoices/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("invoices", "invoice", req["id"]))
