"""Control endpoints (not Stripe's) that stand for time passing and for the emulator's own switches.

Each resource module owns the control endpoints of its object (`.../checkout_sessions/{id}/complete` in
checkout.py, `.../events/{id}/deliver` in events.py); these are the ones of no single object.
"""

from __future__ import annotations

from localdev.stripe_emulator import billing
from localdev.stripe_emulator.errors import StripeError
from localdev.stripe_emulator.resources import subscriptions
from localdev.stripe_emulator.routing import Request, Result, Routes

ROUTES = Routes()


@ROUTES.add("POST", "/_emulator/subscriptions/{id}/advance")
def _advance(req: Request) -> Result:
    outcome = req.params.get("outcome", "paid")
    on_exhausted = req.params.get("on_exhausted", "cancel")
    return 200, *billing.advance(req.stripe, req["id"], outcome, on_exhausted)


@ROUTES.add("POST", "/_emulator/subscriptions/{id}/upcoming")
def _upcoming(req: Request) -> Result:
    return 200, *billing.upcoming(req.stripe, req["id"])


@ROUTES.add("POST", "/_emulator/subscriptions/{id}/pause")
def _pause_collection(req: Request) -> Result:
    """The shopper pauses payment in the Customer Portal (`pause_collection`, status unchanged)."""
    behavior = req.params.get("behavior", "void")
    if behavior not in ("void", "mark_uncollectible", "keep_as_draft"):
        raise StripeError(
            "behavior must be `void`, `mark_uncollectible` or `keep_as_draft`.",
            param="behavior",
            code="parameter_invalid",
        )
    setting = {"behavior": behavior, "resumes_at": req.params.get("resumes_at")}
    return 200, *subscriptions.update(req.stripe, req["id"], {"pause_collection": setting})


@ROUTES.add("POST", "/_emulator/subscriptions/{id}/unpause")
def _unpause_collection(req: Request) -> Result:
    return 200, *subscriptions.update(req.stripe, req["id"], {"pause_collection": None})


@ROUTES.add("POST", "/_emulator/webhooks")
def _switch_webhooks(req: Request) -> Result:
    enabled = req.params.get("enabled")
    if not isinstance(enabled, bool):
        raise StripeError("`enabled` must be true or false.", param="enabled", code="parameter_invalid")
    req.delivery.enabled = enabled
    return 200, {"enabled": enabled, "url": req.delivery.url}, []


@ROUTES.add("DELETE", "/_emulator/data")
def _forget(req: Request) -> Result:
    req.stripe.reset()
    req.delivery.enabled = True
    return 200, {"deleted": True}, []
