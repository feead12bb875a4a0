"""GET /dashboard: one self-contained page, no key needed to load it, nothing fetched from elsewhere."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any


def test_the_dashboard_loads_without_a_key_as_one_html_document(client: Any) -> None:
    response = client.http.get("/dashboard")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assert html.startswith("<!doctype html>")
    assert "/*SCRIPT*/" not in html and "/*STYLE*/" not in html and "/*WEBHOOKS*/" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html), (
        "the page must not load anything from elsewhere"
    )


def test_its_security_policy_allows_exactly_the_inlined_script_and_this_origin(client: Any) -> None:
    response = client.http.get("/dashboard")
    html = response.body.decode()
    policy = dict(
        part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
    )
    # The page's module, the Webhooks view's (chalicelib/dashboard/webhooks.js) and the giving panels'
    # (chalicelib/dashboard/giving.js).
    scripts = [part.split("</script>", 1)[0] for part in html.split('<script type="module">')[1:]]
    digests = [base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() for script in scripts]

    assert len(scripts) == 3
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == " ".join(f"'sha256-{digest}'" for digest in digests)
    assert policy["connect-src"] == "'self'"
