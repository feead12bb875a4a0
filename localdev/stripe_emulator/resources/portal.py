"""Customer Portal sessions: `POST /v1/billing_portal/sessions` (the page itself is pages.py)."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, missing
from localdev.stripe_emulator.objects import build, new_id
from localdev.stripe_emulator.routing import Request, Result, Routes

PORTAL: p.Spec = {
    "customer": p.string,
    "return_url": p.string,
    "locale": p.string,
    "configuration": p.string,
    **p.EXPAND,
}


def create(stripe: Stripe, params: Obj) -> tuple[Obj, list[Obj]]:
    customer_id = params["customer"]
    if customer_id not in stripe.account.customers:
        raise missing("customer", customer_id, param="customer")
    session_id = new_id("bps")
    session = build(
        "billing_portal.session",
        id=session_id,
        created=stripe.now(),
        customer=customer_id,
        locale=params.get("locale"),
        return_url=params.get("return_url"),
        url=f"{stripe.base_url}/portal/{session_id}",
    )
    stripe.account.portal_sessions[session_id] = session
    return session, []


ROUTES = Routes()


@ROUTES.add("POST", "/v1/billing_portal/sessions")
def _create(req: Request) -> Result:
    params = p.parse(req.params, PORTAL)
    p.require(params, "customer")
    return 200, *create(req.stripe, params)
