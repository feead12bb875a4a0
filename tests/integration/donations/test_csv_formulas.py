"""Cause ids that a spreadsheet would read as formulas are exported as text, by the API and by the command."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club

MONTH = datetime.now(UTC).strftime("%Y-%m")
HOSTILE = ["@SUM.A1:A9", "-cmd:calc"]  # valid ids that begin like formulas


@pytest.fixture
def hostile_pledges(club: Club) -> Club:
    for number, cause_id in enumerate(HOSTILE):
        put = club.client.http.put(
            f"/v1/causes/{cause_id}", body=json.dumps({"name": "Hostile ids"}), headers=auth(BRAND_KEY)
        )
        assert put.status_code == 200, put.body
        club.join(f"shopper-{number}")
        assert (
            club.client.http.put(
                f"/v1/members/shopper-{number}/cause",
                body=json.dumps({"cause_id": cause_id}),
                headers=auth(BRAND_KEY),
            ).status_code
            == 200
        )
        order = {
            "order_id": f"o-{number}",
            "customer_ref": f"shopper-{number}",
            "currency": "usd",
            "amount": 10000,
        }
        assert club.post("/v1/orders", order).status_code == 201
    return club


def _cause_cells(text: str) -> set[str]:
    # The join fees pledge to the default cause, general-fund; the orders to the hostile ids.
    return {row["cause_id"] for row in csv.DictReader(io.StringIO(text, newline=""))}


def test_the_report_csv_exports_formula_like_cause_ids_as_text(hostile_pledges: Club) -> None:
    response = hostile_pledges.client.http.get(
        f"/v1/reports/donations?from={MONTH}&to={MONTH}&format=csv", headers=auth(BRAND_KEY)
    )
    assert response.status_code == 200
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    assert _cause_cells(body) == {"'@SUM.A1:A9", "'-cmd:calc", "general-fund"}


def test_the_report_command_writes_formula_like_cause_ids_as_text(
    hostile_pledges: Club, tmp_path: Any, ops_on_test_tables: None
) -> None:
    from ops import donations_report

    out = tmp_path / "donations.csv"
    assert donations_report.main(["--from", MONTH, "--to", MONTH, "--csv", str(out), "--stage", "local"]) == 0
    assert _cause_cells(out.read_text(encoding="utf-8")) == {"'@SUM.A1:A9", "'-cmd:calc", "general-fund"}
