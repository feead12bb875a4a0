"""Orders, refunds, fee pledges, disbursements and reports through the API, against moto and the emulator."""

from __future__ import annotations

import csv
import io
import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.services import donations
from chalicelib.services.donations import DisbursementIn, OrderIn, RefundIn
from chalicelib.services.unit_of_work import on_dynamodb
from chalicelib.store import orders, totals
from localdev.dynamodb_calls import counting_dynamodb_calls
from ops.rebuild_totals import recompute
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

MONTH = datetime.now(UTC).strftime("%Y-%m")


def _order(club: Club, order_id: str, amount: int, customer_ref: str = "ada", **extra: Any) -> Any:
    body = {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount, **extra}
    return club.post("/v1/orders", body)


def _report(club: Club, **query: str) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {"from": MONTH, "to": MONTH, **query}.items())
    return club.client.http.get(f"/v1/reports/donations?{params}", headers=auth(BRAND_KEY))


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")  # vip-monthly: 2 % of orders, 10 % of fees; cause: the default
    return club


def test_a_members_order_pledges_to_their_cause(member: Club) -> None:
    response = _order(member, "o-1", 12345)
    assert response.status_code == 201
    assert json.loads(response.body)["donation"] == {
        "amount": 247,
        "currency": "usd",
        "cause_id": "general-fund",
    }


def test_a_non_members_order_pledges_nothing(club: Club) -> None:
    response = _order(club, "o-1", 5000, customer_ref="guest-1")
    assert response.status_code == 201
    assert json.loads(response.body)["donation"] is None and json.loads(response.body)["member"] is False


def test_the_same_order_twice_answers_the_same_and_another_body_conflicts(member: Club) -> None:
    first = _order(member, "o-1", 10000)
    again = _order(member, "o-1", 10000)
    assert (again.status_code, json.loads(again.body)) == (200, json.loads(first.body))
    other = _order(member, "o-1", 999)
    assert other.status_code == 409 and json.loads(other.body)["error"]["param"] == "order_id"
    totals = json.loads(_report(member).body)["totals"]
    assert totals == [
        {"cause_id": "general-fund", "currency": "usd", "net": 200 + 100, "disbursed": 0, "outstanding": 300}
    ]  # fmt: skip  (order 200 + the first fee's 100)


def test_a_pledge_stays_with_the_cause_chosen_at_report_time(member: Club) -> None:
    _order(member, "o-1", 10000)
    member.client.http.put("/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}),
                           headers=auth(STOREFRONT_KEY))  # fmt: skip
    _order(member, "o-2", 10000)
    rows = {r["cause_id"]: r["pledged"] for r in json.loads(_report(member).body)["data"]}
    assert rows == {"general-fund": 200 + 100, "school-meals": 200}


def test_refunds_reverse_proportionally_and_a_full_refund_reverses_everything(member: Club) -> None:
    _order(member, "o-1", 10001)  # donation round half up(200.02) = 200
    partial = member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 3333})
    assert (partial.status_code, json.loads(partial.body)["donation_reversed"]) == (201, 67)
    rest = member.post("/v1/orders/o-1/refunds", {"refund_id": "r-2", "amount": 6668})
    assert json.loads(rest.body)["donation_reversed"] == 133
    too_much = member.post("/v1/orders/o-1/refunds", {"refund_id": "r-3", "amount": 1})
    assert too_much.status_code == 400 and json.loads(too_much.body)["error"]["param"] == "amount"
    again = member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 3333})
    assert (again.status_code, json.loads(again.body)["donation_reversed"]) == (200, 67)


def test_a_refund_of_an_unknown_order_is_404(club: Club) -> None:
    response = club.post("/v1/orders/nope/refunds", {"refund_id": "r-1", "amount": 1})
    assert response.status_code == 404 and json.loads(response.body)["error"]["param"] == "order_id"


def test_paid_membership_fees_pledge_once_per_invoice(member: Club) -> None:
    events = [e for e in member.emulator.events if e["type"] == "invoice.paid"]
    assert member.deliver(events) == [200]  # a redelivery: already applied
    row = json.loads(_report(member).body)["data"][0]
    assert (row["pledged"], row["orders"]) == (100, 0)  # 10 % of 999, once
    impact = member.member("ada")["impact"]
    assert impact == {"usd": {"pledged": 100, "reversed": 0, "net": 100, "units": None, "causes": [
        {"cause_id": "general-fund", "pledged": 100, "reversed": 0, "net": 100, "units": None}]}}  # fmt: skip


def test_disbursements_cannot_exceed_the_outstanding_balance(member: Club) -> None:
    _order(member, "o-1", 10000)  # outstanding: 200 + 100
    body = {"disbursement_id": "d-1", "cause_id": "general-fund", "currency": "usd", "amount": 250,
            "paid_at": "2026-11-20T10:00:00Z", "reference": "wire 42"}  # fmt: skip
    assert member.post("/v1/disbursements", body, key=BRAND_KEY).status_code == 201
    assert member.post("/v1/disbursements", body, key=BRAND_KEY).status_code == 200
    over = member.post("/v1/disbursements", {**body, "disbursement_id": "d-2", "amount": 51}, key=BRAND_KEY)
    assert over.status_code == 409
    assert json.loads(over.body)["error"]["message"].startswith(
        "0.51 USD exceeds the 0.50 USD outstanding for General Fund (general-fund)."
    )
    listed = json.loads(member.client.http.get("/v1/disbursements", headers=auth(BRAND_KEY)).body)
    assert [d["disbursement_id"] for d in listed["data"]] == ["d-1"]


def test_the_csv_export_opens_in_a_spreadsheet(member: Club) -> None:
    _order(member, "o-1", 10000)
    response = _report(member, format="csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(
        csv.DictReader(
            io.StringIO(response.body.decode() if isinstance(response.body, bytes) else response.body)
        )
    )
    assert rows[0]["cause_id"] == "general-fund" and rows[0]["pledged"] == "300"
    assert rows[0]["pledged_decimal"] == "3.00"


def test_report_parameters_are_validated(club: Club) -> None:
    assert json.loads(_report(club, **{"from": "2026-13"}).body)["error"]["param"] == "from"
    assert json.loads(_report(club, **{"from": "2026-12", "to": "2026-01"}).body)["error"]["param"] == "from"


def test_order_validation_names_the_field(club: Club) -> None:
    for body, param in (({"currency": "xyz"}, "currency"), ({"amount": -1}, "amount"),
                        ({"placed_at": "yesterday"}, "placed_at")):  # fmt: skip
        response = (
            _order(club, "o-1", 100, **body)
            if "amount" not in body
            else club.post(
                "/v1/orders", {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", **body}
            )
        )
        assert json.loads(response.body)["error"]["param"] == param


def test_32_concurrent_reports_of_one_order_pledge_once(member: Club) -> None:
    order = OrderIn(order_id="o-1", customer_ref="ada", currency="usd", amount=10000)
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda _: donations.record_order(order, on_dynamodb()), range(32)))
    assert sum(created for _, created in results) == 1
    assert {answer.donation.amount for answer, _ in results if answer.donation} == {200}
    assert json.loads(_report(member).body)["data"][0]["orders"] == 1


def test_concurrent_refunds_never_reverse_more_than_the_donation(member: Club) -> None:
    _order(member, "o-1", 10000)  # donation 200
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda i: _safe(lambda: donations.record_refund("o-1", RefundIn(f"r-{i}", 1000), on_dynamodb())),
                                range(16)))  # fmt: skip
    accepted = [answer for answer in results if isinstance(answer, tuple)]
    order = orders.get_order("o-1")
    assert order is not None
    assert order.refunded == sum(answer.amount for answer, _ in accepted) <= 10000
    assert (
        order.reversed
        == sum(answer.donation_reversed for answer, _ in accepted)
        == order.refunded * 200 // 10000
    )
    assert order.reversed <= 200
    # Those refused were refused cleanly: over the order amount, or told to retry.
    assert all(isinstance(r, tuple) or getattr(r, "status", 0) in (400, 503) for r in results), results


def test_concurrent_disbursements_never_exceed_the_outstanding_balance(member: Club) -> None:
    _order(member, "o-1", 10000)  # outstanding 300

    def pay(i: int) -> Any:
        return _safe(lambda: donations.record_disbursement(DisbursementIn(
            disbursement_id=f"d-{i}", cause_id="general-fund", currency="usd", amount=100,
            paid_at=datetime(2026, 11, 20, tzinfo=UTC), reference=f"wire {i}"), on_dynamodb()))  # fmt: skip

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(pay, range(10)))
    totals = json.loads(_report(member).body)["totals"][0]
    assert (totals["disbursed"], totals["outstanding"]) == (300, 0)


def _safe(call: Any) -> Any:
    try:
        return call()
    except Exception as exc:  # refused or conflicting attempts are expected here
        return exc


def test_an_order_costs_at_most_two_dynamodb_calls_and_a_report_does_not_grow(member: Club) -> None:
    _order(member, "warm", 100)
    with counting_dynamodb_calls() as calls:
        assert _order(member, "o-1", 10000).status_code == 201
    assert sum(calls.values()) <= 2
    with counting_dynamodb_calls() as few:
        _report(member)
    for i in range(60):
        _order(member, f"bulk-{i}", 1000 + i)
    with counting_dynamodb_calls() as many:
        _report(member)
    assert sum(few.values()) == sum(many.values())


def test_a_repeated_order_or_refund_answers_from_its_failed_commit_without_reading_again(
    member: Club,
) -> None:
    assert _order(member, "o-1", 10000).status_code == 201
    refund = {"refund_id": "r-1", "amount": 1000}
    assert member.post("/v1/orders/o-1/refunds", refund).status_code == 201

    with counting_dynamodb_calls() as order_calls:
        assert _order(member, "o-1", 10000).status_code == 200
    with counting_dynamodb_calls() as refund_calls:
        assert member.post("/v1/orders/o-1/refunds", refund).status_code == 200

    # The order's one read and one transaction; the existing record comes back with the failed write.
    assert order_calls == {"TransactGetItems": 1, "TransactWriteItems": 1}
    assert refund_calls == {"GetItem": 1, "TransactWriteItems": 1}


def test_rebuilding_the_totals_from_the_ledger_equals_the_running_totals(member: Club) -> None:
    rng = random.Random(11)
    for i in range(25):
        _order(member, f"o-{i}", rng.randint(0, 50000))
        if rng.random() < 0.5:
            member.post(f"/v1/orders/o-{i}/refunds", {"refund_id": "r", "amount": rng.randint(1, 100)})
    before = sorted((t.scope, t.key, t.pledged, t.reversed, t.disbursed, t.orders)
                    for t in totals.DonationTotalsRecord.scan())  # fmt: skip
    recompute(write=True)
    after = sorted((t.scope, t.key, t.pledged, t.reversed, t.disbursed, t.orders)
                   for t in totals.DonationTotalsRecord.scan())  # fmt: skip
    assert after == before


def test_the_brand_report_command_prints_and_writes_the_csv(
    member: Club, tmp_path: Any, capsys: Any, ops_on_test_tables: None
) -> None:
    from ops import donations_report

    _order(member, "o-1", 10000)
    out = tmp_path / "donations.csv"
    assert donations_report.main(["--from", MONTH, "--to", MONTH, "--csv", str(out), "--stage", "local"]) == 0
    printed = capsys.readouterr().out
    assert "general-fund" in printed and "3.00" in printed
    assert out.read_text().splitlines()[0].startswith("period,cause_id,currency,pledged")


def test_ids_with_colons_never_collide_in_the_ledger(member: Club) -> None:
    # `a` + refund `b:c` and `a:b` + refund `c` once mapped to the same entry id.
    _order(member, "a", 10000)
    _order(member, "a:b", 10000)
    first = member.post("/v1/orders/a/refunds", {"refund_id": "b:c", "amount": 5000})
    second = member.post("/v1/orders/a:b/refunds", {"refund_id": "c", "amount": 5000})
    assert (first.status_code, second.status_code) == (201, 201)
    assert json.loads(second.body)["donation_reversed"] == 100
