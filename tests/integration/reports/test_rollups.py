"""Reports read rolled-up totals (`store.rollups`) and are exact at once: a report right after any write
(order, refund, fee, payout, void, an order backdated into a past month) shows it; with nothing changed a
report reads one Query and one BatchGetItem per kind and no shard; a write racing a rollup's renewal never
leaves a wrong report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.settings import settings
from chalicelib.store.program import ProgramRecord, month_sums
from chalicelib.store.rollups import RollupRecord, rolled
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club

NOW = datetime.now(UTC).replace(microsecond=0)
MONTH = NOW.strftime("%Y-%m")
EARLIER = (NOW - timedelta(days=40)).replace(microsecond=0)
PAST = EARLIER.strftime("%Y-%m")
REPORTS = ("donations", "program", "cohorts")


def _get(club: Club, report: str) -> dict[str, Any]:
    response = club.client.http.get(f"/v1/reports/{report}?from={PAST}&to={MONTH}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    body: dict[str, Any] = json.loads(response.body)
    return body


def _figures(club: Club, report: str) -> dict[str, Any]:
    """The report without `as_of` (the moment it was read, different at each read)."""
    body = _get(club, report)
    body.pop("as_of", None)
    return body


def _from_the_shards(club: Club, report: str) -> dict[str, Any]:
    """The report with no rollup to answer from: every period summed from the shards at this moment."""
    for record in list(RollupRecord.scan(RollupRecord.scope.startswith("rollup#"))):
        record.delete()
    return _figures(club, report)


def _order(club: Club, order_id: str, amount: int, placed_at: datetime = NOW) -> None:
    body = {
        "order_id": order_id, "customer_ref": "ada", "currency": "usd", "amount": amount,
        "placed_at": placed_at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip
    response = club.post("/v1/orders", body)
    assert response.status_code == 201, response.body


def _revenue(program: dict[str, Any], month: str) -> int:
    row = next(r for r in program["data"] if r["period"] == month)
    return int(row["members"]["revenue"]) + int(row["non_members"]["revenue"])


def _cause(club: Club) -> str:
    [total] = _figures(club, "donations")["totals"]
    cause_id: str = total["cause_id"]
    return cause_id


def _refund(club: Club) -> None:
    assert club.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 2500}).status_code == 201


def _renewal_fee(club: Club, subscription: str) -> None:
    assert set(club.deliver(club.advance(subscription))) == {200}


def _payout(club: Club, disbursement_id: str = "d-1") -> None:
    paid = {
        "disbursement_id": disbursement_id, "cause_id": _cause(club), "currency": "usd", "amount": 50,
        "paid_at": NOW.isoformat().replace("+00:00", "Z"), "reference": "wire 1",
    }  # fmt: skip
    response = club.post("/v1/disbursements", paid, key=BRAND_KEY)
    assert response.status_code == 201, response.body


def _void(club: Club) -> None:
    voided = club.post("/v1/disbursements/d-1/void", {"reason": "typed twice"}, key=BRAND_KEY)
    assert voided.status_code == 200, voided.body


# (write, the reports it changes); a void voids the payout made before the first report
WRITES: dict[str, tuple[Callable[[Club, str], None], set[str]]] = {
    "order": (lambda club, _: _order(club, "o-2", 4_000), {"donations", "program", "cohorts"}),
    "refund": (lambda club, _: _refund(club), {"donations", "program", "cohorts"}),
    "renewal fee": (_renewal_fee, {"donations", "program", "cohorts"}),
    "payout": (lambda club, _: _payout(club), {"donations"}),
    "void": (lambda club, _: _void(club), {"donations"}),
    "order backdated into a past month": (
        lambda club, _: _order(club, "o-late", 5_000, EARLIER),
        {"donations", "program", "cohorts"},  # a member's order counts in their cohort whatever its month
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_the_very_next_report_shows_a_write_whatever_month_it_lands_in(club: Club, write: str) -> None:
    subscription = club.join("ada")
    _order(club, "o-1", 10_000)
    if write == "void":
        _payout(club)
    before = {report: _figures(club, report) for report in REPORTS}  # every period rolled up
    apply, changes = WRITES[write]

    apply(club, subscription)

    after = {report: _figures(club, report) for report in REPORTS}
    for report in REPORTS:
        assert after[report] == _from_the_shards(club, report), report  # to the cent
        assert (after[report] != before[report]) == (report in changes), report


def test_a_backdated_order_counts_in_its_own_month_at_once(club: Club) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000)
    assert _revenue(_figures(club, "program"), PAST) == 0

    _order(club, "o-late", 5_000, EARLIER)

    program = _figures(club, "program")
    assert (_revenue(program, PAST), _revenue(program, MONTH)) == (5_000, 10_000)


@pytest.fixture
def pinned() -> Iterator[datetime]:
    """The clock pinned (after the test's own writes) so the answer's `as_of` can be checked."""
    yield NOW + timedelta(minutes=5)
    clock.set_clock(None)


def test_an_unchanged_report_reads_one_query_and_one_batch_get_per_kind_and_no_shard(
    club: Club, pinned: datetime
) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000)
    _order(club, "o-late", 5_000, EARLIER)
    first = {report: _figures(club, report) for report in REPORTS}  # rolls up every month asked for
    clock.set_clock(lambda: pinned)
    for report, kinds in (("donations", 2), ("program", 2), ("cohorts", 1)):
        with counting_dynamodb_calls() as counted:
            again = _get(club, report)
        # whatever TOTALS_SHARDS is: the rollups' Query and their stamps' BatchGetItem, per kind
        assert dict(counted) == {"Query": kinds, "BatchGetItem": kinds}, report
        assert again.pop("as_of") == pinned.isoformat().replace("+00:00", "Z")  # the moment of the check
        assert again == first[report]


def test_a_report_after_a_write_sums_only_the_periods_it_changed(club: Club) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000)
    _figures(club, "program")

    _order(club, "o-late", 5_000, EARLIER)
    with counting_dynamodb_calls() as counted:
        _figures(club, "program")

    # the program's rollups and stamps, and the donation months' (2 Queries, 2 BatchGetItems); the past
    # month summed again from each shard of both kinds and stored: this month's rollups still answer
    shards = settings.totals_shards
    assert dict(counted) == {"Query": 2 + 2 * shards, "BatchGetItem": 2, "BatchWriteItem": 2}


_FIELDS = ("orders", "revenue", "member_discount", "shipping_waived", "fees", "shoppers")


def _racing(club: Club, order_id: str, after_shard: int) -> Callable[[int, str, str], Iterable[Any]]:
    """One shard's program counters (as `store.program` reads them), with an order recorded once the shard
    `after_shard` was read: a write committed while a rollup is being summed."""

    def query(shard: int, first: str, last: str) -> Iterable[Any]:
        items = list(
            ProgramRecord.query(
                f"program#{shard}", ProgramRecord.key.between(f"{first}#", f"{last}#~"), consistent_read=True
            )
        )
        if shard == after_shard:
            _order(club, order_id, 4_000)
        return items

    return query


def _rolled_revenue() -> int:
    sums, _ = month_sums(MONTH, MONTH)
    return sum(segment.revenue for month in sums.values() for segment in month.segments.values())


@pytest.mark.parametrize("after_shard", ["first", "last"])
def test_a_write_racing_a_rollups_renewal_never_leaves_a_wrong_report(club: Club, after_shard: str) -> None:
    club.join("ada")
    _order(club, "o-1", 10_000)
    shard = 0 if after_shard == "first" else settings.totals_shards - 1

    rolled("program", [MONTH], _racing(club, "o-race", shard), _FIELDS)  # sums and stores the month

    assert _rolled_revenue() == 14_000  # with the racing order, whichever shard it landed on
    with counting_dynamodb_calls() as counted:
        assert _rolled_revenue() == 14_000
    assert dict(counted) == {"Query": 1, "BatchGetItem": 1}  # summed again once, then unchanged
