"""Customers: `POST /v1/customers`, `GET/POST /v1/customers/{id}`, `GET /v1/customers` (`email`)."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe, merge_metadata
from localdev.stripe_emulator.errors import Obj
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

CUSTOMER: p.Spec = {
    "email": p.string,
    "name": p.string,
    "description": p.string,
    "phone": p.string,
    "metadata": p.metadata,
    "preferred_locales": p.strings,
    **p.EXPAND,
}
CUSTOMER_LIST: p.Spec = {**p.LIST, "email": p.string}


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    customer = build(
        "customer",
        id=new_id("cus", 14),
        address=params.get("address"),
        created=stripe.now(),
        description=params.get("description"),
        email=params.get("email"),
        invoice_prefix=new_id("", 8)[1:].upper(),
        metadata=dict(params.get("metadata") or {}),
        name=params.get("name"),
        phone=params.get("phone"),
        preferred_locales=list(params.get("preferred_locales") or []),
    )
    stripe.account.customers[customer["id"]] = customer
    return customer, [stripe.event("customer.created", customer)]


def update(stripe: Stripe, customer_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    customer = stripe.get("customers", "customer", customer_id)
    previous = {key: customer[key] for key in params if key in customer}
    for key in ("email", "name", "description", "phone"):
        if key in params:
            customer[key] = params[key] or None
    if "metadata" in params:
        customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
    return customer, [stripe.event("customer.updated", customer, previous)]


ROUTES = Routes()


@ROUTES.add("POST", "/v1/customers")
def _create(req: Request) -> Result:
    return 200, *create(req.stripe, p.parse(req.params, CUSTOMER))


@ROUTES.add("GET", "/v1/customers")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, CUSTOMER_LIST)
    email = req.params.get("email")
    customers = [c for c in req.stripe.account.customers.values() if email is None or c["email"] == email]
    return page(req, customers, "/v1/customers")


@ROUTES.add("GET", "/v1/customers/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("customers", "customer", req["id"]))


@ROUTES.add("POST", "/v1/customers/{id}")
def _update(req: Request) -> Result:
    return 200, *update(req.stripe, req["id"], p.parse(req.params, CUSTOMER))
