"""A trailing newline is not part of an id, month, e-mail or URL: Python's `$` would let `"abc\n"` through
where JSON Schema (the OpenAPI document) refuses it; the decoder refuses it too, naming the field."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.api.openapi import document
from chalicelib.store import orders
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

ORDER = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 2500}


def _refused(response: Any) -> str:
    assert response.status_code == 400, response.body
    param: str = json.loads(response.body)["error"]["param"]
    return param


@pytest.mark.parametrize("field", ["order_id", "customer_ref"])
def test_an_order_id_or_shopper_id_ending_in_a_newline_is_400_naming_it_and_nothing_is_written(
    club: Club, field: str
) -> None:
    response = club.post("/v1/orders", {**ORDER, field: f"{ORDER[field]}\n"})

    assert _refused(response) == field
    assert orders.get_order("o-1") is None and orders.get_order("o-1\n") is None


def test_an_id_in_the_path_ending_in_a_newline_is_400_naming_it(club: Club) -> None:
    response = club.client.http.get("/v1/members/ada%0A", headers=auth(STOREFRONT_KEY))

    assert _refused(response) == "customer_ref"


def test_a_month_ending_in_a_newline_is_400_naming_it(club: Club) -> None:
    response = club.client.http.get("/v1/reports/donations?from=2026-01%0A", headers=auth(BRAND_KEY))

    assert _refused(response) == "from"


@pytest.mark.parametrize(
    ("field", "value"), [("email", "ada@example.com\n"), ("success_url", "https://shop.example/welcome\n")]
)
def test_an_email_or_url_ending_in_a_newline_is_400_naming_it(club: Club, field: str, value: str) -> None:
    body = {
        "plan_id": "vip-monthly",
        "email": "ada@example.com",
        "success_url": "https://shop.example/welcome",
        "cancel_url": "https://shop.example/join",
        field: value,
    }

    assert _refused(club.post("/v1/members/ada/checkout", body)) == field


def test_every_pattern_in_the_openapi_document_refuses_a_trailing_newline_as_python_reads_it() -> None:
    patterns: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.append(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document())

    assert patterns
    for pattern in patterns:
        assert pattern.endswith(r"(?!\n)$"), pattern
        assert not re.search(pattern, "2026-01\n") and not re.search(pattern, "abc\n")
