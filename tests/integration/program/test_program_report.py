"""Savings, members' value and the program report through the API, against moto and the emulator."""

from __future__ import annotations

import csv
import io
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.membership_report import months_between
from chalicelib.services import donations
from chalicelib.services.donations import OrderIn
from chalicelib.services.unit_of_work import on_dynamodb
from chalicelib.store.program import ProgramRecord
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club
from tests.program_model import Fee, Order, ProgramModel, Refund

NOW = datetime.now(UTC)
MONTH = NOW.strftime("%Y-%m")
FEE = 999  # vip-monthly's price, paid when joining


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")  # vip-monthly: 10 % off, free standard shipping from 50.00, 2 % of orders donated
    return club


def _order(club: Club, order_id: str, amount: int, customer_ref: str = "ada", **extra: Any) -> Any:
    body = {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount, **extra}
    return club.post("/v1/orders", body)


def _report(club: Club, first: str = MONTH, last: str = MONTH, **query: str) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {"from": first, "to": last, **query}.items())
    return club.client.http.get(f"/v1/reports/program?{params}", headers=auth(BRAND_KEY))


def _json(response: Any) -> Any:
    assert response.status_code in (200, 201), response.body
    return json.loads(response.body)


def _donations(club: Club, first: str, last: str) -> dict[tuple[str, str], int]:
    """Net donations per month and currency as the donation report states them (tested on their own)."""
    rows = _json(
        club.client.http.get(f"/v1/reports/donations?from={first}&to={last}", headers=auth(BRAND_KEY))
    )
    out: dict[tuple[str, str], int] = {}
    for row in rows["data"]:
        out[(row["period"], row["currency"])] = out.get((row["period"], row["currency"]), 0) + row["net"]
    return out


def test_an_order_answers_with_its_savings_and_they_default_to_zero(member: Club) -> None:
    saved = _json(_order(member, "o-1", 9000, savings={"member_discount": 1000, "shipping": 595}))
    assert saved["savings"] == {"member_discount": 1000, "shipping": 595}
    assert _json(_order(member, "o-2", 9000))["savings"] == {"member_discount": 0, "shipping": 0}


def test_a_non_members_order_with_savings_is_refused_and_records_nothing(club: Club) -> None:
    response = _order(club, "o-1", 9000, customer_ref="guest", savings={"member_discount": 1, "shipping": 0})
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert (error["param"], error["code"]) == ("savings", "savings_without_membership")
    assert list(ProgramRecord.scan()) == []
    assert _order(club, "o-1", 9000, customer_ref="guest").status_code == 201  # the id is still free


def test_a_members_value_adds_savings_and_donations_and_refunds_take_their_share_back(member: Club) -> None:
    _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 600})
    _order(member, "o-2", 5000, savings={"member_discount": 500, "shipping": 0})
    member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 2500})  # a quarter of o-1

    value = member.member("ada")["value"]["usd"]
    impact = member.member("ada")["impact"]["usd"]
    # saved: 1600 + 500 − round half up(1000 / 4) − round half up(600 / 4) = 2100 − 250 − 150
    assert value["saved"] == 1700
    assert value["donated"] == impact["net"]
    assert value["net"] == value["saved"] - value["fees_paid"]


def test_a_fully_refunded_order_saves_nothing(member: Club) -> None:
    _order(member, "o-1", 10001, savings={"member_discount": 333, "shipping": 595})
    member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 3333})
    member.post("/v1/orders/o-1/refunds", {"refund_id": "r-2", "amount": 6668})
    assert member.member("ada")["value"]["usd"]["saved"] == 0
    row = _json(_report(member))["data"][0]
    assert (row["member_discount"], row["shipping_waived"], row["members"]["revenue"]) == (0, 0, 0)


def test_a_replayed_order_or_refund_counts_once(member: Club) -> None:
    for _ in range(2):
        _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 0})
        member.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 1000})
    row = _json(_report(member))["data"][0]
    assert (row["members"]["orders"], row["members"]["revenue"], row["member_discount"]) == (1, 9000, 900)
    assert member.member("ada")["value"]["usd"]["saved"] == 900


def test_a_paid_membership_fee_counts_once_in_fees_and_in_the_members_value(member: Club) -> None:
    paid = [e for e in member.emulator.events if e["type"] == "invoice.paid"]
    assert member.deliver(paid) == [200]  # a redelivery: already applied
    assert member.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 595})

    value = member.member("ada")["value"]["usd"]
    assert (value["fees_paid"], value["saved"], value["net"]) == (FEE, 1595, 1595 - FEE)
    row = _json(_report(member))["data"][0]
    assert row["fees"] == FEE
    assert row["program_net"] == FEE - 1000 - 595 - row["donations"]


def test_a_renewal_adds_its_fee(member: Club) -> None:
    subscription = next(
        e["data"]["object"]["id"]
        for e in member.emulator.events
        if e["type"] == "customer.subscription.created"
    )
    assert set(member.deliver(member.advance(subscription))) == {200}
    assert member.member("ada")["value"]["usd"]["fees_paid"] == 2 * FEE
    assert _json(_report(member))["data"][0]["fees"] == 2 * FEE


def test_32_concurrent_orders_of_one_new_shopper_count_one_customer(club: Club) -> None:
    orders = [
        OrderIn(order_id=f"o-{i}", customer_ref="newbie", currency="usd", amount=1000 + i) for i in range(32)
    ]
    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(lambda order: donations.record_order(order, on_dynamodb()), orders))
    assert all(created for _, created in answers)
    segment = _json(_report(club))["data"][0]["non_members"]
    assert (segment["customers"], segment["orders"], segment["returning_customers"]) == (1, 32, 1)
    assert segment["revenue"] == sum(o.amount for o in orders)


def test_an_order_still_costs_one_read_and_one_transaction_and_the_report_does_not_grow(member: Club) -> None:
    _order(member, "warm", 100)
    with counting_dynamodb_calls() as calls:
        assert (
            _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 0}).status_code == 201
        )
    assert dict(calls) == {"TransactGetItems": 1, "TransactWriteItems": 1}
    with counting_dynamodb_calls() as few:
        _report(member)
    for i in range(40):
        _order(member, f"bulk-{i}", 1000 + i, customer_ref=f"shopper-{i % 7}")
    _order(member, "bulk-member", 500)  # a member's pledge, as o-1: the donation month changed too
    with counting_dynamodb_calls() as many:
        _report(member)
    assert sum(few.values()) == sum(many.values())  # the changed month summed from the shards again
    with counting_dynamodb_calls() as unchanged:
        _report(member)
    assert dict(unchanged) == {"Query": 2, "BatchGetItem": 2}


def test_the_report_as_csv_has_the_json_figures_one_line_per_row(member: Club) -> None:
    _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 0})
    _order(member, "o-2", 4000, customer_ref="guest")
    report = _json(_report(member))
    response = _report(member, format="csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert [r["period"] for r in rows] == [MONTH, f"{MONTH}..{MONTH}"]
    row, data = rows[0], report["data"][0]
    assert int(row["members_revenue"]) == data["members"]["revenue"] == 10000
    assert int(row["non_members_aov"]) == data["non_members"]["aov"] == 4000
    assert row["lift_aov"] == data["lift"]["aov"] == "2.5000"
    assert int(row["program_net"]) == data["program_net"]


@pytest.mark.parametrize(
    ("query", "param"), [("from=2026-13&to=2026-12", "from"), ("from=2026-05&to=2026-01", "from")]
)
def test_a_bad_month_range_is_400_naming_the_field(club: Club, query: str, param: str) -> None:
    response = club.client.http.get(f"/v1/reports/program?{query}", headers=auth(BRAND_KEY))
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == param


def test_the_program_report_equals_a_recomputation_of_what_was_reported(member: Club) -> None:
    """Members and guests, orders placed over four months, partial refunds: per month and over ranges."""
    months = months_between((NOW - timedelta(days=95)).strftime("%Y-%m"), MONTH)
    model = ProgramModel(fees=[Fee("usd", FEE, MONTH)])
    ids = itertools.count()

    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(
            st.tuples(st.sampled_from(["ada", "bob", "cy"]), st.integers(0, 20_000), st.integers(0, 95),
                      st.integers(0, 1_500), st.integers(0, 2)),
            min_size=1, max_size=5,
        ),
        st.integers(0, len(months) - 1),
    )  # fmt: skip
    def check(orders: list[tuple[str, int, int, int, int]], start: int) -> None:
        for customer_ref, amount, days_ago, discount, refunds in orders:
            member_order = customer_ref == "ada"
            order = Order(
                order_id=f"p-{next(ids)}", customer_ref=customer_ref, currency="usd", amount=amount,
                placed_at=(NOW - timedelta(days=days_ago)).replace(microsecond=0), member=member_order,
                # At most the plan's 10 % of the order before the discount (d ≤ amount / 9).
                member_discount=min(discount, amount // 9) if member_order else 0,
            )  # fmt: skip
            body = {"placed_at": order.placed_at.isoformat().replace("+00:00", "Z"),
                    "savings": {"member_discount": order.member_discount, "shipping": 0}}  # fmt: skip
            assert _order(member, order.order_id, amount, customer_ref, **body).status_code == 201
            model.orders.append(order)
            for r in range(refunds if amount else 0):
                refund = Refund(order.order_id, max(1, amount // 3), MONTH)
                if model.refunded(order.order_id) + refund.amount > amount:
                    break
                response = member.post(f"/v1/orders/{order.order_id}/refunds",
                                       {"refund_id": f"r{r}", "amount": refund.amount})  # fmt: skip
                assert response.status_code == 201, response.body
                model.refunds.append(refund)
        first = months[start]
        model.donations = _donations(member, first, MONTH)
        expected = model.report(months_between(first, MONTH), ["usd"])
        report = _json(_report(member, first, MONTH))
        assert report.pop("as_of") is not None  # every write before it counted: here, all of them
        assert report == expected
        value = member.member("ada")["value"]["usd"]
        assert (value["saved"], value["fees_paid"]) == (model.value("ada", "usd"), FEE)

    check()


def test_the_brand_program_command_prints_the_months_and_writes_the_csv(
    member: Club, tmp_path: Any, capsys: Any, ops_on_test_tables: None
) -> None:
    from ops import program_report

    _order(member, "o-1", 10000, savings={"member_discount": 1000, "shipping": 0})
    _order(member, "o-2", 4000, customer_ref="guest")
    out = tmp_path / "program.csv"
    assert program_report.main(["--from", MONTH, "--to", MONTH, "--csv", str(out), "--stage", "local"]) == 0
    printed = capsys.readouterr().out
    assert MONTH in printed and "100.00" in printed and "2.5000" in printed
    lines = out.read_text().splitlines()
    assert lines[0].startswith("period,currency,members_customers") and len(lines) == 3
