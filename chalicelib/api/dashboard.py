"""GET /dashboard: the brand team's web page, served by this app so it deploys with it.

One self-contained HTML document (its stylesheet and ES module inlined; nothing loaded from
anywhere else), assembled from `chalicelib/dashboard/` on the first request of a container and
kept: importing the app reads no file. The page needs no key to load; its data calls use the
brand key the user types, which it keeps only in the tab's sessionStorage. The Content-Security-
Policy allows exactly the inlined style and script (by hash) and calls to this origin.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from chalice.app import Blueprint

from chalicelib.api.routing import PUBLIC, Call, Example, Reply, endpoint

dashboard_api = Blueprint(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "dashboard"
HTML = "text/html"
PAGE_EXAMPLE = '<!doctype html>\n<html lang="en">\n<head>\n<title>VIP Rewards — brand dashboard</title>…'


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@cache
def page() -> tuple[str, str]:
    """(the HTML document, its Content-Security-Policy)."""
    style = (ASSETS / "dashboard.css").read_text(encoding="utf-8")
    script = (ASSETS / "dashboard.js").read_text(encoding="utf-8")
    html = (ASSETS / "index.html").read_text(encoding="utf-8")
    webhooks = (ASSETS / "webhooks.js").read_text(encoding="utf-8")
    giving = (ASSETS / "giving.js").read_text(encoding="utf-8")
    html = html.replace("/*STYLE*/", style, 1).replace("/*SCRIPT*/", script, 1)
    html = html.replace("/*WEBHOOKS*/", webhooks, 1).replace("/*GIVING*/", giving, 1)
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src {_sha256(script)} {_sha256(webhooks)} {_sha256(giving)}",
            f"style-src {_sha256(style)}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return html, policy


@endpoint(
    dashboard_api, "GET", "/dashboard", summary="The brand dashboard (HTML page)", tag="dashboard",
    roles=PUBLIC, response=str, content_type=HTML,
    example=Example(response=PAGE_EXAMPLE),
    description="A web page for brand teams: donations, memberships and the program report for a month "
    "range, CSV downloads and a form to record disbursements. Loading it needs no key; it asks for a brand "
    "key and calls the brand endpoints with it.",
)  # fmt: skip
def dashboard(call: Call[Any, Any]) -> Reply:
    html, policy = page()
    return Reply(
        html,
        content_type=f"{HTML}; charset=utf-8",
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
