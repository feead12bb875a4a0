"""Events: `GET /v1/events` (with Stripe's filters), `GET /v1/events/{id}`;
`POST /_emulator/events/{id}/deliver` sends one again."""

from __future__ import annotations

from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing
from localdev.stripe_emulator.routing import Request, Result, Routes, one, page

EVENT_LIST: p.Spec = {
    **p.LIST,
    "type": p.string,
    "types": p.strings,
    "created": lambda value, param: value if isinstance(value, dict) else p.integer(value, param),
    "delivery_success": p.boolean,
}
_COMPARISONS = (("gt", int.__gt__), ("gte", int.__ge__), ("lt", int.__lt__), ("lte", int.__le__))


def _type_matches(event_type: str, pattern: str) -> bool:
    return event_type == pattern or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))


def list_of(stripe: Stripe, params: Obj) -> list[Obj]:
    events = list(stripe.account.events)
    types = params.get("types") or ([params["type"]] if "type" in params else None)
    if types:
        events = [e for e in events if any(_type_matches(e["type"], t) for t in types)]
    created = params.get("created")
    if isinstance(created, dict):
        for op, check in _COMPARISONS:
            if op in created:
                events = [e for e in events if check(e["created"], int(created[op]))]
    elif created is not None:
        events = [e for e in events if e["created"] == int(created)]
    if "delivery_success" in params:
        delivered = bool(params["delivery_success"])
        events = [e for e in events if (e["pending_webhooks"] == 0) == delivered]
    return events


def find(stripe: Stripe, event_id: str) -> Obj:
    event = next((e for e in stripe.account.events if e["id"] == event_id), None)
    if event is None:
        raise missing("event", event_id)
    return event


ROUTES = Routes()


@ROUTES.add("GET", "/v1/events")
def _list(req: Request) -> Result:
    req.params = p.parse(req.params, EVENT_LIST)
    return page(req, list_of(req.stripe, req.params), "/v1/events")


@ROUTES.add("GET", "/v1/events/{id}")
def _get(req: Request) -> Result:
    p.parse(req.params, p.EXPAND)
    return one(find(req.stripe, req["id"]))


@ROUTES.add("POST", "/_emulator/events/{id}/deliver")
def _deliver(req: Request) -> Result:
    event = find(req.stripe, req["id"])
    if not req.delivery.url:
        raise StripeError("No webhook URL is configured, so there is nowhere to deliver to.", status=409)
    req.force_delivery = True
    return 200, {"id": event["id"], "object": "event_delivery"}, [event]
