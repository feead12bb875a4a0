"""`python -m localdev.demo_store --port 3000 --api http://127.0.0.1:8000`: the demo storefront's server.

Serves the page and its script, and the two server-side calls a brand's own server makes for the browser:
`POST /demo-store/session` (mint a shopper token for the signed-in shopper) and `POST /demo-store/sync`
(after checkout, re-read the shopper from Stripe so the perks show before the webhook lands).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

HERE = Path(__file__).resolve().parent
STOREFRONT_KEY = "local-storefront-key"
# The demo's own sign-in: any short name (a real store signs shoppers in with passwords or links).
SHOPPER = re.compile(r"^[a-z0-9-]{1,40}$")


class DemoStore(BaseHTTPRequestHandler):
    api = "http://127.0.0.1:8000"
    key = STOREFRONT_KEY

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tokens pass through here
        return

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/demo-store", "/demo-store/"):
            return self._send(200, self._page(), "text/html; charset=utf-8", csp=True)
        if path == "/demo-store/store.js":
            return self._send(
                200, (HERE / "store.js").read_text(encoding="utf-8"), "text/javascript; charset=utf-8"
            )
        if path == "/demo-store/store.css":
            return self._send(
                200, (HERE / "store.css").read_text(encoding="utf-8"), "text/css; charset=utf-8"
            )
        if path == "/":
            self.send_response(302)
            self.send_header("Location", "/demo-store")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return self._send(404, "not found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            shopper = str(json.loads(self.rfile.read(length) or b"{}").get("shopper", ""))
        except ValueError:
            shopper = ""
        if not SHOPPER.match(shopper):
            return self._send(400, json.dumps({"error": "shopper: 1-40 of a-z 0-9 -"}), "application/json")
        if self.path == "/demo-store/session":
            status, body = self._call(f"/v1/members/demo-{shopper}/session", {"ttl_seconds": 600})
        elif self.path == "/demo-store/sync":
            status, body = self._call(f"/v1/members/demo-{shopper}/sync", {})
        else:
            return self._send(404, "not found", "text/plain")
        return self._send(status, body, "application/json")

    def _cookies(self) -> dict[str, str]:
        pairs = (part.strip().partition("=") for part in (self.headers.get("Cookie") or "").split(";"))
        return {name: unquote(value) for name, _, value in pairs if name}

    def _page(self) -> str:
        """The page as a brand's server renders it: the cart and who is signed in are in the HTML from the
        first byte, so the kit's elements reserve the right boxes before any script runs (no layout shift)."""
        cookies = self._cookies()
        try:
            lines = [line for line in json.loads(cookies.get("demo-cart") or "[]") if isinstance(line, dict)]
        except ValueError:
            lines = []
        shopper = cookies.get("demo-shopper", "")
        signed_in = bool(SHOPPER.match(shopper))
        # A brand's server knows its members (it asks the API at checkout anyway): no join offer for them.
        member = signed_in and self._member(shopper)
        cart = {"currency": "usd", "items": lines, "shipping": {"method": "standard", "amount": 695}}
        listed = "".join(
            f"<li>{int(line.get('quantity', 1))} × {html.escape(str(line.get('sku')))} — "
            f"${int(line.get('unit_amount', 0)) * int(line.get('quantity', 1)) / 100:,.2f}</li>"
            for line in lines
        )
        total = sum(int(line.get("unit_amount", 0)) * int(line.get("quantity", 1)) for line in lines)
        offer = html.escape(json.dumps(cart)) if lines else ""
        who = f"Signed in as {html.escape(shopper)}" if signed_in else "Browsing as a guest"
        return (
            (HERE / "index.html").read_text(encoding="utf-8")
            .replace("{{API}}", self.api)
            .replace("{{JOIN_OFFER}}", "" if member else
                     f'<vip-join-offer id="join-offer" cart="{offer}">'
                     "</vip-join-offer>")
            .replace("{{SIGN_OUT_HIDDEN}}", "" if signed_in else " hidden")
            .replace("{{CART_LINES}}", listed or "<li>Your cart is empty.</li>")
            .replace("{{CART_TOTAL}}", f"Subtotal ${total / 100:,.2f}, standard shipping $6.95")
            .replace("{{SIGNED_IN}}", who)
        )  # fmt: skip

    def _member(self, shopper: str) -> bool:
        request = urllib.request.Request(
            f"{self.api}/v1/members/demo-{shopper}", headers={"Authorization": f"Bearer {self.key}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return bool(json.loads(answer.read()).get("perks_active"))
        except (urllib.error.URLError, ValueError):
            return False

    def _call(self, path: str, payload: dict[str, Any]) -> tuple[int, str]:
        request = urllib.request.Request(
            self.api + path, data=json.dumps(payload).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def _send(self, status: int, body: str, content_type: str, csp: bool = False) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if csp:
            # What a brand adds for the kit (docs/storefront.md): its API for scripts and calls, nothing else.
            self.send_header(
                "Content-Security-Policy",
                f"default-src 'self'; script-src 'self' {self.api}; connect-src 'self' {self.api}; "
                "style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
            )
        self.end_headers()
        self.wfile.write(data)


def serve(host: str, port: int, api: str, key: str = STOREFRONT_KEY) -> ThreadingHTTPServer:
    handler = type("Handler", (DemoStore,), {"api": api.rstrip("/"), "key": key})
    return ThreadingHTTPServer((host, port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    server = serve(args.host, args.port, args.api)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
