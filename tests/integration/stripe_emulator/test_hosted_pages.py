"""The hosted Checkout page works in a real browser (Debian's Chromium, headless)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from tests.helpers import CHROMIUM, CHROMIUM_OFFLINE_FLAGS

CHROMIUM_ARGS = ["--headless", *CHROMIUM_OFFLINE_FLAGS]


class Storefront(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Welcome</title><h1 id=welcome>Welcome to the club</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def storefront() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Storefront)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()


def session_for(stripe_client: stripe.StripeClient, price_id: str, storefront: str) -> Any:
    customer = stripe_client.v1.customers.create(params={"email": "browser@example.com"})
    return stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price_id}],
            "success_url": f"{storefront}/welcome?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{storefront}/join",
        }
    )


def test_paying_on_the_hosted_page_redirects_to_success_url(
    browser: Any, stripe_client: stripe.StripeClient, monthly_price: Any, storefront: str
) -> None:
    session = session_for(stripe_client, monthly_price.id, storefront)
    page = browser.new_page()

    page.goto(session.url)
    assert page.inner_text("#amount-due") == "9.99 USD"
    page.click("text=Pay with test card")
    page.wait_for_url(f"{storefront}/welcome?session_id={session.id}")

    assert page.inner_text("#welcome") == "Welcome to the club"
    paid = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert stripe_client.v1.subscriptions.retrieve(paid.subscription).status == "active"


def test_a_declined_card_stays_on_the_page_with_the_error(
    browser: Any, stripe_client: stripe.StripeClient, monthly_price: Any, storefront: str
) -> None:
    session = session_for(stripe_client, monthly_price.id, storefront)
    page = browser.new_page()

    page.goto(session.url)
    page.click("#decline")

    assert page.inner_text("[role=alert]") == "Your card was declined."
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_the_emulator_runs_alone_from_the_command_line() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev.stripe_emulator", "--port", str(port), "--webhook-url", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "emulator did not start"
                time.sleep(0.1)
        client = stripe.StripeClient("sk_test_cli", base_addresses={"api": f"http://127.0.0.1:{port}"})
        assert client.v1.customers.create(params={"email": "cli@example.com"}).id.startswith("cus_")
    finally:
        process.terminate()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
