"""Reports read rolled-up totals (`store.rollups`): one Query per kind while fresh, the answer says as of
when, and any write into a rolled-up month (a backdated order) counts exactly once the rollup is renewed."""

from __future__ import annotations

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
def kept() -> Iterator[list[datetime]]:
    """Rollups kept for MAX_AGE seconds (the suite keeps none), on a clock the test moves."""
    # The real time when the test starts: the emulator signs its webhooks with it.
    moment = [datetime.now(UTC).replace(microsecond=0)]
    clock.set_clock(lambda: moment[0])
    with rollups.kept_for(MAX_AGE):
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


def _live(club: Club, report: str) -> dict[str, Any]:
    """The report summed from the shards at this moment (no rollup kept), as the rest of the suite reads it."""
    with rollups.kept_for(0):
        return _get(club, report)


def test_a_fresh_rollup_answers_in_one_query_per_kind_and_says_as_of_when(
    club: Club, kept: list[datetime]
) -> None:
    start = kept[0]
    club.join("ada")
    _order(club, "o-1", 10_000, start)
    first = {report: _get(club, report) for report in REPORTS}  # rolls up every month asked for
    kept[0] = start + timedelta(seconds=30)
    for report, calls in (("donations", 2), ("program", 2), ("cohorts", 1)):
        with counting_dynamodb_calls() as counted:
            again = _get(club, report)
        assert dict(counted) == {"Query": calls}, report  # whatever TOTALS_SHARDS is
        assert again == first[report]
        assert again["as_of"] == start.isoformat().replace("+00:00", "Z")


def test_a_late_write_into_a_rolled_up_month_counts_exactly_once_the_rollup_is_renewed(
    club: Club, kept: list[datetime]
) -> None:
    start = kept[0]
    club.join("ada")
    _order(club, "o-1", 10_000, start)
    before = {report: _get(club, report) for report in REPORTS}
    assert _revenue(before["program"], PAST) == 0

    kept[0] = start + timedelta(seconds=60)
    _order(club, "o-late", 5_000, start - timedelta(days=40))  # backdated into a month already rolled up
    within = _get(club, "program")
    assert within == before["program"]  # not yet: the answer is as of the rollup, and says so

    kept[0] = start + timedelta(seconds=MAX_AGE + 1)
    after = {report: _get(club, report) for report in REPORTS}
    assert _revenue(after["program"], PAST) == 5_000
    assert _revenue(after["program"], MONTH) == _revenue(before["program"], MONTH)
    for report in REPORTS:  # to the cent: what the shards sum to now
        assert after[report]["as_of"] == kept[0].isoformat().replace("+00:00", "Z")
        assert after[report] == _live(club, report)


def test_a_payout_and_its_void_show_in_the_next_report_at_once(club: Club, kept: list[datetime]) -> None:
    start = kept[0]
    club.join("ada")
    _order(club, "o-1", 10_000, start)
    [before] = _get(club, "donations")["totals"]  # rolled up: the next reports answer from the rollup
    assert before["disbursed"] == 0 and before["outstanding"] > 50

    kept[0] = start + timedelta(seconds=10)
    paid = {
        "disbursement_id": "d-1", "cause_id": before["cause_id"], "currency": "usd", "amount": 50,
        "paid_at": start.isoformat().replace("+00:00", "Z"), "reference": "wire 1",
    }  # fmt: skip
    assert club.post("/v1/disbursements", paid, key=BRAND_KEY).status_code == 201
    [after] = _get(club, "donations")["totals"]
    assert (after["disbursed"], after["outstanding"]) == (50, before["outstanding"] - 50)
    [month] = [r for r in _get(club, "donations")["data"] if r["period"] == MONTH]
    assert month["disbursed"] == 50

    kept[0] = start + timedelta(seconds=20)
    voided = club.post("/v1/disbursements/d-1/void", {"reason": "typed twice"}, key=BRAND_KEY)
    assert voided.status_code == 200, voided.body
    [restored] = _get(club, "donations")["totals"]
    assert (restored["disbursed"], restored["outstanding"]) == (0, before["outstanding"])
    rolled, live = _get(club, "donations"), _live(club, "donations")
    # To the cent; `as_of` is the oldest rollup used (the earlier month's, which no payout changed).
    assert (rolled["data"], rolled["totals"]) == (live["data"], live["totals"])
