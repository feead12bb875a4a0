"""Reports read rolled-up totals (`store.rollups`): one Query per kind while fresh, the answer says as of
when, and any write into a rolled-up month (a backdated order) counts exactly once the rollup is renewed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.store import rollups
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club

MAX_AGE = 120
NOW = datetime.now(UTC).replace(microsecond=0)
MONTH = NOW.strftime("%Y-%m")
EARLIER = (NOW - timedelta(days=40)).replace(microsecond=0)
PAST = EARLIER.strftime("%Y-%m")
REPORTS = ("donations", "program", "cohorts")


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """Rollups kept for MAX_AGE seconds (the suite keeps none), on a clock the test moves."""
    monkeypatch.setattr(
        rollups, "settings", dataclasses.replace(rollups.settings, reports_max_age_seconds=MAX_AGE)
    )
    moment = [NOW]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


def _get(club: Club, report: str) -> dict[str, Any]:
    response = club.client.http.get(f"/v1/reports/{report}?from={PAST}&to={MONTH}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    body: dict[str, Any] = json.loads(response.body)
    return body


def _order(club: Club, order_id: str, amount: int, placed_at: datetime) -> None:
    body = {
        "order_id": order_id, "customer_ref": "ada", "currency": "usd", "amount": amount,
        "placed_at": placed_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    response = club.post("/v1/orders", body)
    assert response.status_code == 201, response.body


def _revenue(program: dict[str, Any], month: str) -> int:
    row = next(r for r in program["data"] if r["period"] == month)
    return int(row["members"]["revenue"]) + int(row["non_members"]["revenue"])


def _live(club: Club, monkeypatch: pytest.MonkeyPatch, report: str) -> dict[str, Any]:
    """The report summed from the shards at this moment (no rollup kept), as the rest of the suite reads it."""
    with monkeypatch.context() as patch:
        patch.setattr(rollups, "settings", dataclasses.replace(rollups.settings, reports_max_age_seconds=0))
        return _get(club, report)


def test_a_fresh_rollup_answers_in_one_query_per_kind_and_says_as_of_when(
    club: Club, kept: list[datetime]
) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000, NOW)
    first = {report: _get(club, report) for report in REPORTS}  # rolls up every month asked for
    kept[0] = NOW + timedelta(seconds=30)
    for report, calls in (("donations", 2), ("program", 2), ("cohorts", 1)):
        with counting_dynamodb_calls() as counted:
            again = _get(club, report)
        assert dict(counted) == {"Query": calls}, report  # whatever TOTALS_SHARDS is
        assert again == first[report]
        assert again["as_of"] == NOW.isoformat().replace("+00:00", "Z")


def test_a_late_write_into_a_rolled_up_month_counts_exactly_once_the_rollup_is_renewed(
    club: Club, kept: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000, NOW)
    before = {report: _get(club, report) for report in REPORTS}
    assert _revenue(before["program"], PAST) == 0

    kept[0] = NOW + timedelta(seconds=60)
    _order(club, "o-late", 5_000, EARLIER)  # backdated into a month already rolled up
    within = _get(club, "program")
    assert within == before["program"]  # not yet: the answer is as of the rollup, and says so

    kept[0] = NOW + timedelta(seconds=MAX_AGE + 1)
    after = {report: _get(club, report) for report in REPORTS}
    assert _revenue(after["program"], PAST) == 5_000
    assert _revenue(after["program"], MONTH) == _revenue(before["program"], MONTH)
    for report in REPORTS:  # to the cent: what the shards sum to now
        assert after[report]["as_of"] == kept[0].isoformat().replace("+00:00", "Z")
        assert after[report] == _live(club, monkeypatch, report)
