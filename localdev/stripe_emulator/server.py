"""The emulator's HTTP side: one handler that runs every call through the same short pipeline.

    read → hosted page? → authenticate → parse → route → run once (Idempotency-Key) → deliver → answer

Routes come from the resource modules (`resources/*.py`, `control.py`), each owning its object's endpoints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from localdev.stripe_emulator import control, pages
from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.account import API_VERSION, Stripe
from localdev.stripe_emulator.delivery import WebhookDelivery
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.objects import new_id
from localdev.stripe_emulator.resources import (
    checkout,
    customers,
    events,
    invoices,
    portal,
    prices,
    products,
    subscriptions,
)
from localdev.stripe_emulator.routing import Request, Routes, render

log = logging.getLogger("stripe-emulator")
RESOURCES = (customers, products, prices, checkout, portal, subscriptions, invoices, events, control)
PAGES = ("/checkout/", "/portal/", "/invoice/")
# (status, body, events to deliver, deliver even while webhooks are off)
Outcome = tuple[int, Obj, list[Obj], bool]


def build_api() -> Routes:
    """Every route of every resource module."""
    return Routes(*(module.ROUTES for module in RESOURCES))


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stripe: Stripe, delivery: WebhookDelivery) -> None:
        super().__init__(address, EmulatorHandler)
        self.stripe = stripe
        self.delivery = delivery
        self.routes = build_api()


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
        if url.path.startswith(PAGES) or url.path == "/":
            self._page(method, url.path, raw)
            return
        request_id = new_id("req", 14)
        status, body, events, force = self._run(method, url.path, url.query, raw, request_id)
        if url.path.startswith("/_emulator/"):
            # Control calls stand for things that happen in the world: their webhooks land first.
            answers = self.server.delivery.deliver(events, force=force)
            if force:
                body = {
                    **body,
                    "delivered": answers[0] is not None and answers[0] < 300,
                    "status": answers[0],
                }
            self._json(status, body, request_id)
            return
        self._json(status, body, request_id)
        if events:
            threading.Thread(target=self.server.delivery.deliver, args=(events,), daemon=True).start()

    def _run(self, method: str, path: str, query: str, raw: str, request_id: str) -> Outcome:
        """Authenticate, parse, route and run the call once; any failure as Stripe's error body."""
        stripe = self.server.stripe
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        try:
            if path.startswith("/v1/"):
                with stripe.lock:
                    stripe.account.requests.append(f"{method} {path}")
                self._authenticate()
            params = _parse(method, path, query, raw)
            handler, match = self.server.routes.find(method, path)
            with stripe.lock:
                replay = self._replay(key, path, raw)
                if replay is not None:
                    return (*replay, [], False)
                stripe.set_request(request_id if path.startswith("/v1/") else None, key)
                request = Request(method, path, params, match, stripe, self.server.delivery)
                try:
                    status, body, events = handler(request)
                finally:
                    stripe.set_request(None, None)
                body = render(stripe, body, params.get("expand") if isinstance(params, dict) else None)
                if key and status < 500:
                    stripe.account.idempotency[key] = (_fingerprint(path, raw), status, body)
                return status, body, events, request.force_delivery
        except StripeError as exc:
            if key_for_error := self.headers.get("Idempotency-Key"):
                # Stripe saves 4xx answers too, so a retry with the same key gets the same error.
                with stripe.lock:
                    stripe.account.idempotency.setdefault(
                        key_for_error, (_fingerprint(path, raw), exc.status, exc.body())
                    )
            return exc.status, exc.body(), [], False
        except (ValueError, KeyError) as exc:
            return 400, StripeError(f"Invalid request: {exc}").body(), [], False

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
        self.send_header("Stripe-Version", API_VERSION)
        self.end_headers()
        self.wfile.write(data)

    def _page(self, method: str, path: str, raw: str) -> None:
        status, html, location, events = pages.respond(self.server.stripe, method, path, dict(parse_qsl(raw)))
        self.server.delivery.deliver(events)
        data = html.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _parse(method: str, path: str, query: str, raw: str) -> Obj:
    """Control endpoints take JSON; Stripe's take a form (in the query for GET and DELETE)."""
    if path.startswith("/_emulator/") and raw.lstrip().startswith("{"):
        parsed: Obj = json.loads(raw)
        return parsed
    return p.parse_form(query if method in ("GET", "DELETE") and not raw else raw)


def _fingerprint(path: str, raw: str) -> str:
    return hashlib.sha256(f"{path}?{raw}".encode()).hexdigest()
