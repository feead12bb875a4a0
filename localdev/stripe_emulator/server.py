"""The emulator's HTTP side: Stripe's REST routes, control endpoints, hosted pages, webhook delivery."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

# The currencies Stripe charges in: one list for the service and the emulator.
from chalicelib.domain.money import CURRENCIES
from localdev.stripe_emulator import pages
from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.objects import new_id
from localdev.stripe_emulator.signing import sign_payload
from localdev.stripe_emulator.state import Obj, Stripe, StripeError, missing

log = logging.getLogger("stripe-emulator")
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
    def __init__(self, method: str, path: str, params: Obj, match: re.Match[str]) -> None:
        self.method, self.path, self.params, self.match = method, path, params, match
        # Set by `POST /_emulator/events/{id}/deliver`: send the events even while webhooks are off.
        self.force_delivery = False

    def __getitem__(self, group: str) -> str:
        # An id in the path is percent-encoded by the client (stripe-python sends `vip_@` as `vip_%40`).
        return unquote(self.match.group(group))


class Routes:
    def __init__(self) -> None:
        self.table: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: Handler) -> Handler:
            self.table.append((method, regex, handler))
            return handler

        return register

    def find(self, method: str, path: str) -> tuple[Handler, re.Match[str]] | None:
        path_known = False
        for route_method, regex, handler in self.table:
            match = regex.match(path)
            if match:
                path_known = True
                if route_method == method:
                    return handler, match
        if path_known:
            raise StripeError(f"Unrecognized request URL ({method}: {path}).", status=404)
        return None


def build_api(stripe: Stripe, delivery: WebhookDelivery) -> Routes:
    """Stripe's REST routes for what the service uses."""
    routes = Routes()

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

    @routes.add("POST", "/v1/customers")
    def create_customer(req: Request) -> Result:
        params = p.parse(req.params, p.CUSTOMER)
        return 200, *stripe.create_customer(params)

    @routes.add("GET", "/v1/customers")
    def list_customers(req: Request) -> Result:
        params = p.parse(req.params, p.CUSTOMER_LIST)
        req.params = params
        customers = [
            c
            for c in stripe.account.customers.values()
            if "email" not in params or c["email"] == params["email"]
        ]
        return page(req, customers, "/v1/customers")

    @routes.add("GET", "/v1/customers/{id}")
    def get_customer(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("customers", "customer", req["id"]))

    @routes.add("POST", "/v1/customers/{id}")
    def update_customer(req: Request) -> Result:
        return 200, *stripe.update_customer(req["id"], p.parse(req.params, p.CUSTOMER))

    @routes.add("POST", "/v1/products")
    def create_product(req: Request) -> Result:
        params = p.parse(req.params, p.PRODUCT)
        p.require(params, "name")
        return 200, *stripe.create_product(params)

    @routes.add("GET", "/v1/products/{id}")
    def get_product(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("products", "product", req["id"]))

    @routes.add("POST", "/v1/products/{id}")
    def update_product(req: Request) -> Result:
        params = p.parse(req.params, p.PRODUCT)
        if "id" in params:
            raise StripeError("Received unknown parameter: id", code="parameter_unknown", param="id")
        return 200, *stripe.update_product(req["id"], params)

    @routes.add("POST", "/v1/prices")
    def create_price(req: Request) -> Result:
        params = p.parse(req.params, p.PRICE)
        p.require(params, "product", "currency", "unit_amount")
        if params["currency"] not in CURRENCIES:
            raise StripeError(f"Invalid currency: {params['currency']}.", param="currency")
        if params["unit_amount"] < 0:
            raise StripeError("This value must be greater than or equal to 0.", param="unit_amount")
        if "recurring" in params and params["recurring"] is not None:
            p.require(params["recurring"], "interval")
        return 200, *stripe.create_price(params)

    @routes.add("GET", "/v1/prices")
    def list_prices(req: Request) -> Result:
        req.params = p.parse(req.params, p.PRICE_LIST)
        return page(req, stripe.list_prices(req.params), "/v1/prices")

    @routes.add("GET", "/v1/prices/{id}")
    def get_price(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("prices", "price", req["id"]))

    @routes.add("POST", "/v1/prices/{id}")
    def update_price(req: Request) -> Result:
        return 200, *stripe.update_price(req["id"], p.parse(req.params, p.PRICE_UPDATE))

    @routes.add("POST", "/v1/checkout/sessions")
    def create_checkout_session(req: Request) -> Result:
        params = p.parse(req.params, p.CHECKOUT)
        p.require(params, "mode", "success_url")
        return 200, *stripe.create_checkout_session(params)

    @routes.add("GET", "/v1/checkout/sessions/{id}")
    def get_checkout_session(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("checkout_sessions", "checkout.session", req["id"]))

    @routes.add("POST", "/v1/checkout/sessions/{id}/expire")
    def expire_checkout_session(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return 200, *stripe.expire_checkout(req["id"])

    @routes.add("POST", "/v1/billing_portal/sessions")
    def create_portal_session(req: Request) -> Result:
        params = p.parse(req.params, p.PORTAL)
        p.require(params, "customer")
        return 200, *stripe.create_portal_session(params)

    @routes.add("GET", "/v1/subscriptions")
    def list_subscriptions(req: Request) -> Result:
        req.params = p.parse(req.params, p.SUBSCRIPTION_LIST)
        return page(req, stripe.subscriptions_of(req.params), "/v1/subscriptions")

    @routes.add("GET", "/v1/subscriptions/{id}")
    def get_subscription(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("subscriptions", "subscription", req["id"]))

    @routes.add("POST", "/v1/subscriptions/{id}")
    def update_subscription(req: Request) -> Result:
        return 200, *stripe.update_subscription(req["id"], p.parse(req.params, p.SUBSCRIPTION_UPDATE))

    @routes.add("DELETE", "/v1/subscriptions/{id}")
    def cancel_subscription(req: Request) -> Result:
        p.parse(req.params, p.SUBSCRIPTION_CANCEL)
        return 200, *stripe.cancel_subscription(req["id"])

    @routes.add("GET", "/v1/invoices")
    def list_invoices(req: Request) -> Result:
        req.params = p.parse(req.params, p.INVOICE_LIST)
        return page(req, stripe.invoices_of(req.params), "/v1/invoices")

    @routes.add("GET", "/v1/invoices/{id}")
    def get_invoice(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        return one(stripe.get("invoices", "invoice", req["id"]))

    @routes.add("GET", "/v1/events")
    def list_events(req: Request) -> Result:
        req.params = p.parse(req.params, p.EVENT_LIST)
        return page(req, stripe.events_of(req.params), "/v1/events")

    @routes.add("GET", "/v1/events/{id}")
    def get_event(req: Request) -> Result:
        p.parse(req.params, p.EXPAND)
        event = next((e for e in stripe.account.events if e["id"] == req["id"]), None)
        if event is None:
            raise missing("event", req["id"])
        return one(event)

    # -- control endpoints (not Stripe's): drive what a shopper or time would do -----------------

    @routes.add("POST", "/_emulator/checkout_sessions/{id}/complete")
    def complete(req: Request) -> Result:
        outcome = req.params.get("outcome", "succeeded")
        session, events = stripe.complete_checkout(req["id"], outcome)
        if outcome == "card_declined":
            error = StripeError(
                "Your card was declined.", status=402, type="card_error", code="card_declined"
            ).body()
            return 402, {**error, "checkout_session": session}, events
        return 200, session, events

    @routes.add("POST", "/_emulator/subscriptions/{id}/advance")
    def advance(req: Request) -> Result:
        outcome = req.params.get("outcome", "paid")
        on_exhausted = req.params.get("on_exhausted", "cancel")
        return 200, *stripe.advance_subscription(req["id"], outcome, on_exhausted)

    @routes.add("POST", "/_emulator/webhooks")
    def switch_webhooks(req: Request) -> Result:
        enabled = req.params.get("enabled")
        if not isinstance(enabled, bool):
            raise StripeError("`enabled` must be true or false.", param="enabled", code="parameter_invalid")
        delivery.enabled = enabled
        return 200, {"enabled": enabled, "url": delivery.url}, []

    @routes.add("POST", "/_emulator/events/{id}/deliver")
    def deliver_event(req: Request) -> Result:
        event = next((e for e in stripe.account.events if e["id"] == req["id"]), None)
        if event is None:
            raise missing("event", req["id"])
        if not delivery.url:
            raise StripeError("No webhook URL is configured, so there is nowhere to deliver to.", status=409)
        req.force_delivery = True
        return 200, {"id": event["id"], "object": "event_delivery"}, [event]

    @routes.add("DELETE", "/_emulator/data")
    def forget(req: Request) -> Result:
        stripe.reset()
        delivery.enabled = True
        return 200, {"deleted": True}, []

    return routes


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stripe: Stripe, delivery: WebhookDelivery) -> None:
        super().__init__(address, EmulatorHandler)
        self.stripe = stripe
        self.delivery = delivery
        self.routes = build_api(stripe, delivery)
        self.sequence = 0


class WebhookDelivery:
    """Signs events and POSTs them to the webhook URL; retries transient failures a few times.

    While `enabled` is false, events are recorded but not sent (lost webhooks), except those sent on
    purpose with `force` (`POST /_emulator/events/{id}/deliver`).
    """

    def __init__(self, url: str | None, secret: str) -> None:
        self.url, self.secret = url, secret
        self.enabled = True
        self.lock = threading.Lock()  # one delivery at a time keeps the order Stripe would attempt

    def deliver(self, events: list[Obj], force: bool = False) -> list[int | None]:
        """Send each event; the endpoint's last answer per event (None: not sent or unreachable)."""
        if not self.url or not events or not (self.enabled or force):
            return [None for _ in events]
        with self.lock:
            return [self._send(event) for event in events]

    def _send(self, event: Obj) -> int | None:
        status: int | None = None
        payload = json.dumps(event, indent=2).encode()
        for attempt in range(3):
            header = sign_payload(payload, self.secret, int(time.time()))
            request = urllib.request.Request(
                str(self.url),
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    log.info("delivered %s %s → %s", event["type"], event["id"], response.status)
                    event["pending_webhooks"] = 0
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                log.warning("webhook %s %s → %s", event["type"], event["id"], exc.code)
                status = exc.code
                if exc.code < 500:
                    return status
            except OSError as exc:
                log.warning("webhook %s %s failed: %s", event["type"], event["id"], exc)
                status = None
            if attempt < 2:
                time.sleep(0.2 * (attempt + 1))
        return status


class EmulatorHandler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    error_content_type = "application/json"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        if url.path.startswith(("/checkout/", "/portal/", "/invoice/")) or url.path == "/":
            self._page(method, url.path, raw)
            return
        stripe = self.server.stripe
        events: list[Obj] = []
        force = False
        request_id = new_id("req", 14)
        try:
            if url.path.startswith("/v1/"):
                with stripe.lock:
                    stripe.account.requests.append(f"{method} {url.path}")
                self._authenticate()
            if url.path.startswith("/_emulator/") and raw.lstrip().startswith("{"):
                params = json.loads(raw)
            else:
                params = p.parse_form(url.query if method in ("GET", "DELETE") and not raw else raw)
            found = self.server.routes.find(method, url.path)
            if found is None:
                raise StripeError(f"Unrecognized request URL ({method}: {url.path}).", status=404)
            handler, match = found
            key = self.headers.get("Idempotency-Key") if method == "POST" else None
            with stripe.lock:
                replay = self._replay(key, url.path, raw)
                if replay is not None:
                    status, body = replay
                else:
                    stripe.set_request(request_id if url.path.startswith("/v1/") else None, key)
                    request = Request(method, url.path, params, match)
                    try:
                        status, body, events = handler(request)
                        force = request.force_delivery
                    finally:
                        stripe.set_request(None, None)
                    body = render(stripe, body, params.get("expand") if isinstance(params, dict) else None)
                    if key and status < 500:
                        stripe.account.idempotency[key] = (_fingerprint(url.path, raw), status, body)
        except StripeError as exc:
            status, body = exc.status, exc.body()
            if key_for_error := self.headers.get("Idempotency-Key"):
                # Stripe saves 4xx answers too, so a retry with the same key gets the same error.
                with stripe.lock:
                    stripe.account.idempotency.setdefault(
                        key_for_error, (_fingerprint(url.path, raw), status, body)
                    )
        except (ValueError, KeyError) as exc:
            status, body = 400, StripeError(f"Invalid request: {exc}").body()
        is_control = url.path.startswith("/_emulator/")
        if is_control:
            # Control calls stand for things that happen in the world: their webhooks land first.
            answers = self.server.delivery.deliver(events, force=force)
            if force:
                body = {
                    **body,
                    "delivered": answers[0] is not None and answers[0] < 300,
                    "status": answers[0],
                }
        self._json(status, body, request_id)
        if not is_control and events:
            threading.Thread(target=self.server.delivery.deliver, args=(events,), daemon=True).start()

    def _authenticate(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not re.fullmatch(r"Bearer (sk|rk)_(test|live)_\S+", auth):
            raise StripeError(
                "You did not provide a valid API key. Use `Authorization: Bearer sk_test_...`.",
                status=401,
                type="invalid_request_error",
            )

    def _replay(self, key: str | None, path: str, raw: str) -> tuple[int, Obj] | None:
        if not key:
            return None
        saved = self.server.stripe.account.idempotency.get(key)
        if saved is None:
            return None
        fingerprint, status, body = saved
        if fingerprint != _fingerprint(path, raw):
            raise StripeError(
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        return status, body

    def _json(self, status: int, body: Obj, request_id: str) -> None:
        data = json.dumps(body, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", request_id)
        self.send_header("Stripe-Version", "2026-10-28.endive")
        self.end_headers()
        self.wfile.write(data)

    def _page(self, method: str, path: str, raw: str) -> None:
        stripe = self.server.stripe
        status, html, location, events = pages.respond(stripe, method, path, dict(parse_qsl(raw)))
        self.server.delivery.deliver(events)
        data = html.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _fingerprint(path: str, raw: str) -> str:
    return hashlib.sha256(f"{path}?{raw}".encode()).hexdigest()


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
