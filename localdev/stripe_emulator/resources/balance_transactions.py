"""Customer balance transactions: `POST/GET /v1/customers/{id}/balance_transactions`, and how a balance meets
an invoice. A negative amount is a credit (the customer is owed it), a positive one a debit; Stripe applies
the balance to the next invoice it finalizes and carries what is left."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, page

BALANCE_TRANSACTION: p.Spec = {
    "amount": p.integer,
    "currency": p.string,
    "description": p.string,
    "metadata": p.metadata,
    **p.EXPAND,
}
BALANCE_TRANSACTION_LIST: p.Spec = {**p.LIST, "invoice": p.string}


def record(stripe: Stripe, customer: Obj, amount: int, type_: str, **fields: object) -> tuple[Obj, list[Obj]]:
    """Move the customer's balance by `amount`: the transaction and `customer.updated`."""
    previous = {"balance": customer["balance"]}
    customer["balance"] += amount
    transaction = build(
        "customer_balance_transaction",
        id=new_id("cbtxn"),
        amount=amount,
        created=stripe.now(),
        currency=customer["currency"],
        customer=customer["id"],
        ending_balance=customer["balance"],
        type=type_,
        **fields,
    )
    stripe.account.balance_transactions[transaction["id"]] = transaction
    return transaction, [stripe.event("customer.updated", customer, previous)]


def create(stripe: Stripe, customer_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    customer = stripe.get("customers", "customer", customer_id)
    currency = params["currency"].lower()
    if customer["currency"] not in (None, currency):
        raise StripeError(f"The customer's balance is in {customer['currency']}.", param="currency")
    customer["currency"] = currency  # Stripe sets a customer's currency from its first balance transaction
    return record(
        stripe,
        customer,
        params["amount"],
        "adjustment",
        description=params.get("description"),
        metadata=dict(params.get("metadata") or {}),
    )


def settle(stripe: Stripe, invoice: Obj, commit: bool) -> list[Obj]:
    """Apply the customer's balance to `invoice` (a credit lowers `amount_due`, a debit raises it) and set
    `starting_balance`/`ending_balance`; with `commit`, move the balance (an `applied_to_invoice` one)."""
    customer = stripe.account.customers[invoice["customer"]]
    balance = customer["balance"]
    if balance == 0 or customer["currency"] not in (None, invoice["currency"]):
        return []
    applied = max(balance, -invoice["amount_due"])  # a credit covers at most what is due
    invoice["starting_balance"] = balance
    invoice["ending_balance"] = balance - applied
    invoice["amount_due"] += applied
    invoice["amount_remaining"] = invoice["amount_due"]
    if not commit or applied == 0:
        return []
    _, events = record(stripe, customer, -applied, "applied_to_invoice", invoice=invoice["id"])
    return events


ROUTES = Routes()


@ROUTES.add("POST", "/v1/customers/{id}/balance_transactions")
def _create(req: Request) -> Result:
    params = p.parse(req.params, BALANCE_TRANSACTION)
    p.require(params, "amount", "currency")
    return 200, *create(req.stripe, req["id"], params)


@ROUTES.add("GET", "/v1/customers/{id}/balance_transactions")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, BALANCE_TRANSACTION_LIST)
    req.stripe.get("customers", "customer", req["id"])
    found = [
        t
        for t in req.stripe.account.balance_transactions.values()
        if t["customer"] == req["id"] and req.params.get("invoice") in (None, t["invoice"])
    ]
    return page(req, found, f"/v1/customers/{req['id']}/balance_transactions")
