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
    assert "/*SCRIPT*/" not in html and "/*STYLE*/" not in html
    assert not re.search(r"""(src|href)=["']https?://""", html), (
        "the page must not load anything from elsewhere"
    )


def test_its_security_policy_allows_exactly_the_inlined_script_and_this_origin(client: Any) -> None:
    response = client.http.get("/dashboard")
    html = response.body.decode()
    policy = dict(
        part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";")
    )
    script = html.split('<script type="module">', 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()

    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == f"'sha256-{digest}'"
    assert policy["connect-src"] == "'self'"
