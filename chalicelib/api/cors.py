"""CORS for the routes a storefront's pages call from the browser, and for no other.

`/v1/shopper/*`, `/v1/offer*` and `/v1/disclosure` answer the origins in STOREFRONT_ORIGINS (preflight
included, errors too so the kit can read a 401); `/kit/*` is a public script any page may import. Every
other route stays server to server: no CORS header at all, so a browser on any origin cannot read it.
Chalice's own CORS support allows one origin per route, hence this middleware and explicit preflights.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.api import lazy

if TYPE_CHECKING:
    from chalicelib.services.shopper import allowed_origins
else:  # imported by the first storefront request from a browser (api/lazy.py)
    allowed_origins = lazy.function("chalicelib.services.shopper", "allowed_origins")

cors_api = Blueprint(__name__)

# Route templates (as Chalice names them) that storefront pages call, and their methods.
STOREFRONT_ROUTES: dict[str, tuple[str, ...]] = {
    "/v1/shopper/membership": ("GET",),
    "/v1/shopper/cause": ("PUT",),
    "/v1/shopper/checkout": ("POST",),
    "/v1/shopper/portal": ("POST",),
    "/v1/shopper/impact": ("GET",),
    "/v1/shopper/impact/page": ("GET",),
    "/v1/shopper/referral": ("GET",),
    "/v1/offer": ("GET",),
    "/v1/offer/preview": ("POST",),
    "/v1/disclosure": ("GET",),
}
KIT_PREFIX = "/kit/"
ALLOWED_HEADERS = "authorization, content-type, idempotency-key"
MAX_AGE_SECONDS = "600"


def cors_headers(path: str, origin: str | None) -> dict[str, str]:
    """The CORS headers a response to `origin` on the route `path` carries (none for other routes)."""
    if path.startswith(KIT_PREFIX):
        return {"Access-Control-Allow-Origin": "*"}
    if path not in STOREFRONT_ROUTES or not origin or origin not in allowed_origins():
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "X-Request-Id, Retry-After",
        "Vary": "Origin",
    }


def cors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """HTTP middleware: adds the CORS headers of `cors_headers` to every answer, errors included."""
    response = get_response(event)
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    response.headers.update(cors_headers(event.path, headers.get("origin")))
    return response


def _preflight(path: str) -> Callable[[], Response]:
    def preflight() -> Response:
        request = cors_api.current_request
        headers: dict[str, str | list[str]] = {**cors_headers(path, request.headers.get("origin"))}
        if headers:
            methods = ("GET", "HEAD") if path.startswith(KIT_PREFIX) else STOREFRONT_ROUTES[path]
            headers.update(
                {
                    "Access-Control-Allow-Methods": ", ".join(methods),
                    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                    "Access-Control-Max-Age": MAX_AGE_SECONDS,
                }
            )
        # The middleware adds the origin headers again (same values).
        return Response(body="", status_code=204, headers=headers)

    return preflight


for _path in STOREFRONT_ROUTES:
    cors_api.route(_path, methods=["OPTIONS"], name=f"preflight_{_path.strip('/').replace('/', '_')}")(
        _preflight(_path)
    )
