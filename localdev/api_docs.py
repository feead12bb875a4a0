"""Writes the "Endpoints" part of docs/api.md from the route declarations and their examples.

`python -m localdev.api_docs` rewrites everything after the `## Endpoints` heading; a test fails when the
page is not what this would write, so the page shows the same requests and answers as the OpenAPI document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.api.routing import EndpointSpec, Example

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
HEADING = "## Endpoints"
BASE = "http://127.0.0.1:8000"
KEYS = {"brand": "local-brand-key", "storefront": "local-storefront-key"}
INTRO = f"""{HEADING}

Each endpoint with a request you can paste against `make dev` (`{BASE}`, the local keys of the README) and
its answer. Every operation can also answer the errors of [Errors](#errors); the OpenAPI document lists
exactly which, per operation. This part of the page is written by `python -m localdev.api_docs` from the
route declarations, so it shows the same examples as `GET /v1/openapi.json`.
"""


WIDTH = 100
TAG_ORDER = [
    "catalog", "members", "shopper", "eligibility", "offer", "donations", "giving", "gifts", "referrals",
    "reports", "events", "admin", "webhooks", "kit", "dashboard", "meta",
]  # fmt: skip


def _json(value: Any, indent: int = 0, column: int = 0) -> str:
    """JSON that reads well: each object or list on one line when it fits, else one member per line."""
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if column + len(compact) <= WIDTH or not isinstance(value, (dict, list)) or not value:
        return compact
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        members = []
        for key, item in value.items():
            prefix = f"{pad}{json.dumps(key)}: "
            members.append(prefix + _json(item, indent + 2, len(prefix)))
    else:
        members = [pad + _json(item, indent + 2, len(pad)) for item in value]
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    return opening + "\n" + ",\n".join(members) + "\n" + " " * indent + closing


def _url(spec: EndpointSpec, example: Example, **query: Any) -> str:
    path = spec.path
    for name in spec.path_params:
        path = path.replace("{" + name + "}", example.path[name])
    values = {**example.query, **query}
    if values:
        path += "?" + "&".join(f"{name}={value}" for name, value in values.items())
    return BASE + path


def _curl(spec: EndpointSpec, example: Example, **query: Any) -> str:
    url = _url(spec, example, **query)
    method = "" if spec.method == "GET" else f" -X {spec.method}"
    lines = [f"curl -s{method} '{url}'" if "?" in url else f"curl -s{method} {url}"]
    if spec.roles is not None:
        key = KEYS["storefront"] if "storefront" in spec.roles else KEYS["brand"]
        lines.append(f"-H 'Authorization: Bearer {key}'")
    if spec.path == "/v1/webhooks/stripe":
        lines.append("-H 'Stripe-Signature: t=1795424400,v1=<HMAC-SHA256 of \"t.body\" with whsec_local>'")
    if spec.idempotent:
        lines.append(f"-H 'Idempotency-Key: {spec.method.lower()}-{spec.path.rsplit('/', 1)[-1]}-0001'")
    if example.request is not None:
        body = _json(example.request)
        if "'" in body:
            raise ValueError(f"{spec.method} {spec.path}: the example body cannot contain a single quote")
        lines.append("-H 'Content-Type: application/json'")
        lines.append(f"-d '{body}'")
    return " \\\n  ".join(lines)


def _section(spec: EndpointSpec) -> str:
    from chalicelib.api.openapi import statuses
    from chalicelib.api.routing import Example

    example = spec.example or Example()
    if spec.roles is None:
        who = "Public (no key)."
    else:
        who = "Storefront or brand key." if "storefront" in spec.roles else "Brand key."
    parts = [f"### `{spec.method} {spec.path}`", "", f"{spec.summary}. {who}"]
    if spec.description:
        parts += ["", spec.description]
    parts += ["", "```sh", _curl(spec, example), "```", ""]
    if example.response is not None and spec.path != "/v1/openapi.json":
        parts += [f"Answer `{spec.status}`:", "", "```json", _json(example.response), "```", ""]
    elif spec.response is None:
        parts += [f"Answer `{spec.status}`, no body.", ""]
    else:
        parts += [f"Answer `{spec.status}`: the document itself.", ""]
    csv = example.csv_text()
    if spec.csv and csv is not None:
        parts += ["As CSV:", "", "```sh", _curl(spec, example, format="csv"), "```", "", "```csv"]
        parts += [csv.replace("\r\n", "\n").rstrip("\n"), "```", ""]
    others = [str(code) for code in statuses(spec) if code != spec.status]
    parts += [f"Other statuses: {', '.join(others)}.", ""]
    return "\n".join(parts)


def endpoints_markdown() -> str:
    """The Endpoints part of docs/api.md, in the order the routes are declared."""
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.routing import REGISTRY

    # By tag, then as declared within a tag (one module each), whatever order the modules were imported in.
    specs = sorted(
        REGISTRY,
        key=lambda spec: (TAG_ORDER.index(spec.tag) if spec.tag in TAG_ORDER else len(TAG_ORDER), spec.tag),
    )
    return INTRO + "\n" + "\n".join(_section(spec) for spec in specs)


def current_page() -> tuple[str, str]:
    """docs/api.md as it is, and as this module would write it."""
    text = DOC.read_text(encoding="utf-8")
    head = text.split(HEADING, 1)[0].rstrip("\n") + "\n\n"
    return text, head + endpoints_markdown()


def main() -> int:
    text, wanted = current_page()
    if text != wanted:
        DOC.write_text(wanted, encoding="utf-8")
        print(f"rewrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
