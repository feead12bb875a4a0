"""Routes, requests and the pieces every route shares: Stripe's lists and `expand[]`."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError, missing

if TYPE_CHECKING:
    from localdev.stripe_emulator.delivery import WebhookDelivery

Result = tuple[int, Obj, list[Obj]]
Handler = Callable[["Request"], Result]
# Where each expandable field's id points (`expand[]=subscription`, `expand[]=data.latest_invoice`).
EXPANDABLE = {
    "customer": "customers",
    "subscription": "subscriptions",
    "latest_invoice": "invoices",
    "invoice": "invoices",
    "product": "products",
    "default_price": "prices",
}


class Request:
    """One call: its parsed parameters, the path's ids, the account and the webhook delivery."""

    def __init__(
        self,
        method: str,
        path: str,
        params: Obj,
        match: re.Match[str],
        stripe: Stripe,
        delivery: WebhookDelivery,
    ) -> None:
        self.method, self.path, self.params, self.match = method, path, params, match
        self.stripe, self.delivery = stripe, delivery
        # Set by `POST /_emulator/events/{id}/deliver`: send the events even while webhooks are off.
        self.force_delivery = False

    def __getitem__(self, group: str) -> str:
        # An id in the path is percent-encoded by the client (stripe-python sends `vip_@` as `vip_%40`).
        return unquote(self.match.group(group))


class Routes:
    """A route table; each resource module has one (`ROUTES`) and the server joins them."""

    def __init__(self, *tables: Routes) -> None:
        self.table: list[tuple[str, re.Pattern[str], Handler]] = [row for t in tables for row in t.table]

    def add(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: Handler) -> Handler:
            self.table.append((method, regex, handler))
            return handler

        return register

    def find(self, method: str, path: str) -> tuple[Handler, re.Match[str]]:
        for route_method, regex, handler in self.table:
            match = regex.match(path)
            if match and route_method == method:
                return handler, match
        raise StripeError(f"Unrecognized request URL ({method}: {path}).", status=404)


def one(obj: Obj) -> Result:
    return 200, obj, []


def page(req: Request, items: list[Obj], url: str) -> Result:
    """Stripe's list: newest first, `limit` 1–100 (default 10), `starting_after`/`ending_before`.

    `items` come in creation order (the account keeps insertion order), so newest first is reversed.
    """
    limit = req.params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise StripeError("Limit must be between 1 and 100.", param="limit", code="parameter_invalid")
    items = list(reversed(items))
    ids = [o["id"] for o in items]
    for cursor_param in ("starting_after", "ending_before"):
        cursor = req.params.get(cursor_param)
        if cursor is not None and cursor not in ids:
            raise missing("object", cursor, param=cursor_param)
    if "starting_after" in req.params:
        items = items[ids.index(req.params["starting_after"]) + 1 :]
    elif "ending_before" in req.params:
        items = items[: ids.index(req.params["ending_before"])][-limit:]
    body = {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}
    return 200, body, []


def render(stripe: Stripe, body: Obj, expand: Any) -> Obj:
    """A deep copy of `body` with the `expand[]` paths replaced by their objects."""
    rendered = copy.deepcopy(body)
    for path in expand or []:
        _expand(stripe, rendered, path.split("."))
    return rendered


def _expand(stripe: Stripe, node: Any, path: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _expand(stripe, item, path)
        return
    if not isinstance(node, dict) or not path:
        return
    head, rest = path[0], path[1:]
    if head not in node:
        raise StripeError(f"This property cannot be expanded ({head}).", param="expand")
    if rest:
        _expand(stripe, node[head], rest)
        return
    value = node[head]
    collection = EXPANDABLE.get(head)
    if collection is None:
        # As Stripe: only fields holding an object's id can be expanded, not plain values.
        raise StripeError(f"This property cannot be expanded ({head}).", param="expand")
    if isinstance(value, str):
        found = getattr(stripe.account, collection).get(value)
        if found is not None:
            node[head] = copy.deepcopy(found)
