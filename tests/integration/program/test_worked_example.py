"""docs/program.md's worked example: the figures it states are what the service answers."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalicelib import clock
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club

DOC = Path(__file__).resolve().parents[3] / "docs" / "program.md"
# (order, placed, shopper, amount, member discount, shipping), as the document's table lists them.
ORDERS = [
    ("A1", "2026-10-02T10:00:00Z", "ada", 10000, 1000, 595),
    ("B1", "2026-10-03T10:00:00Z", "bob", 8000, 0, 0),
    ("C1", "2026-10-05T10:00:00Z", "cy", 4000, 0, 0),
    ("A2", "2026-10-09T10:00:00Z", "ada", 5000, 500, 0),
    ("C2", "2026-10-15T10:00:00Z", "cy", 2000, 0, 0),
]


def _documented_row() -> Any:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- worked-example -->\s*```json\n(.*?)```", text, re.S)
    assert match, "docs/program.md lost its worked example"
    return json.loads(match.group(1))


def test_the_documented_worked_example_is_what_the_service_answers(club: Club) -> None:
    club.join("ada")  # vip-monthly: 10 % off, free standard shipping from 50.00, 2 % of orders donated
    for order_id, placed_at, customer_ref, amount, discount, shipping in ORDERS:
        body = {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount,
                "placed_at": placed_at, "savings": {"member_discount": discount, "shipping": shipping}}  # fmt: skip
        assert club.post("/v1/orders", body).status_code == 201
    clock.set_clock(lambda: datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    assert club.post("/v1/orders/A1/refunds", {"refund_id": "r-1", "amount": 2500}).status_code == 201

    response = club.client.http.get("/v1/reports/program?from=2026-10&to=2026-10", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["data"] == [_documented_row()]
