"""Products: `POST /v1/products` (with your own `id`), `GET/POST /v1/products/{id}`."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe, merge_metadata
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes, one

PRODUCT: p.Spec = {
    "id": p.string,
    "name": p.string,
    "active": p.boolean,
    "description": p.string,
    "metadata": p.metadata,
    **p.EXPAND,
}


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    product_id = params.get("id") or new_id("prod", 14)
    if product_id in stripe.account.products:
        raise StripeError(
            f"Product already exists: '{product_id}'", code="resource_already_exists", param="id"
        )
    now = stripe.now()
    product = build(
        "product",
        id=product_id,
        active=params.get("active", True),
        created=now,
        description=params.get("description"),
        metadata=dict(params.get("metadata") or {}),
        name=params["name"],
        updated=now,
    )
    stripe.account.products[product_id] = product
    return product, [stripe.event("product.created", product)]


def update(stripe: Stripe, product_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
    product = stripe.get("products", "product", product_id)
    previous = {key: product[key] for key in params if key in product and key != "metadata"}
    for key in ("name", "active", "description"):
        if key in params:
            product[key] = params[key]
    if "metadata" in params:
        product["metadata"] = merge_metadata(product["metadata"], params["metadata"])
    product["updated"] = stripe.now()
    return product, [stripe.event("product.updated", product, previous)]


def name_of(stripe: Stripe, price: Obj) -> str:
    """The name of a price's product (its id if the product is gone)."""
    product = stripe.account.products.get(price["product"])
    return str(product["name"]) if product else str(price["product"])


ROUTES = Routes()


@ROUTES.add("POST", "/v1/products")
def _create(req: Request) -> Result:
    params = p.parse(req.params, PRODUCT)
    p.require(params, "name")
    return 200, *create(req.stripe, params)


@ROUTES.add("GET", "/v1/products/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(req.stripe.get("products", "product", req["id"]))


@ROUTES.add("POST", "/v1/products/{id}")
def _update(req: Request) -> Result:
    params = p.parse(req.params, PRODUCT)
    if "id" in params:
        raise StripeError("Received unknown parameter: id", code="parameter_unknown", param="id")
    return 200, *update(req.stripe, req["id"], params)
