"""Giving that can be shown and proven, through the API: impact statements, payouts, voids, the public
giving record, PATCH for plans and causes, and inactive causes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.services import giving
from chalicelib.services.unit_of_work import on_dynamodb
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

NOW = datetime.now(UTC)
YEAR = NOW.year
# Orders placed earlier this year (the tests run in December 2026; any date works for a year's statement
# as long as these fall in the same year as now).
MARCH = datetime(YEAR, 3, 2, 10, tzinfo=UTC)
APRIL = datetime(YEAR, 4, 10, 10, tzinfo=UTC)


def _rfc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _get(club: Club, path: str, key: str | None = BRAND_KEY) -> Any:
    response = club.client.http.get(path, headers=auth(key) if key else {})
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def _order(club: Club, order_id: str, amount: int, placed_at: datetime, customer_ref: str = "ada") -> None:
    body = {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount,
            "placed_at": _rfc(placed_at)}  # fmt: skip
    response = club.post("/v1/orders", body)
    assert response.status_code == 201, response.body


def _disburse(club: Club, disbursement_id: str, amount: int, cause_id: str = "general-fund") -> Any:
    body = {"disbursement_id": disbursement_id, "cause_id": cause_id, "currency": "usd", "amount": amount,
            "paid_at": _rfc(NOW - timedelta(hours=1)), "reference": f"wire {disbursement_id}",
            "receipt_url": f"https://example.org/receipts/{disbursement_id}.pdf"}  # fmt: skip
    return club.post("/v1/disbursements", body, key=BRAND_KEY)


@pytest.fixture
def year(club: Club) -> Club:
    """Ada joins (fee 9.99 → 10 % = 100 pledged today to the default cause), orders 100.00 in March (2 % =
    200) and 50.00 in April (100), and a quarter of the March order is refunded (50 reversed)."""
    club.join("ada")
    _order(club, "o-1", 10000, MARCH)
    _order(club, "o-2", 5000, APRIL)
    response = club.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 2500})
    assert json.loads(response.body)["donation_reversed"] == 50
    return club


def _statement(club: Club) -> Any:
    return _get(club, f"/v1/members/ada/impact_statement?year={YEAR}", STOREFRONT_KEY)


def test_a_members_year_matches_the_ledger_to_the_cent(year: Club) -> None:
    statement = _statement(year)
    lines = [(line["kind"], line["source"], line["amount"], line["status"]) for line in statement["lines"]]
    (fee,) = [line for line in statement["lines"] if "invoice_id" in line["source"]]
    assert lines == [
        ("pledge", {"order_id": "o-1"}, 200, "pledged"),
        ("pledge", {"order_id": "o-2"}, 100, "pledged"),
        ("pledge", fee["source"], 100, "pledged"),
        ("reversal", {"order_id": "o-1"}, 50, "pledged"),
    ]
    assert {line["cause_id"] for line in statement["lines"]} == {"general-fund"}
    assert statement["lines"][0]["occurred_at"] == _rfc(MARCH)
    assert statement["totals"] == [
        {"cause_id": "general-fund", "currency": "usd", "pledged": 400, "reversed": 50, "net": 350}
    ]
    impact = year.member("ada")["impact"]["usd"]
    assert (impact["pledged"], impact["reversed"], impact["net"]) == (400, 50, 350)
    assert statement["disbursements"] == []


def test_a_year_without_giving_is_empty(year: Club) -> None:
    statement = _get(year, "/v1/members/ada/impact_statement?year=2001", STOREFRONT_KEY)
    assert statement == {"customer_ref": "ada", "year": 2001, "lines": [], "totals": [], "disbursements": []}


def test_a_disbursement_turns_the_oldest_pledges_disbursed_first(year: Club) -> None:
    # March's day owes 150 once its refund is counted: 150 covers it, and the reversal shares its status.
    assert _disburse(year, "d-1", 150).status_code == 201
    statuses = [
        (line["source"].get("order_id"), line["kind"], line["status"]) for line in _statement(year)["lines"]
    ]
    assert statuses == [
        ("o-1", "pledge", "disbursed"),
        ("o-2", "pledge", "pledged"),
        (None, "pledge", "pledged"),
        ("o-1", "reversal", "disbursed"),
    ]
    assert _statement(year)["disbursements"] == [
        {"cause_id": "general-fund", "currency": "usd", "amount": 150, "paid_at": _rfc(NOW - timedelta(hours=1)),
         "receipt_url": "https://example.org/receipts/d-1.pdf"}
    ]  # fmt: skip
    assert _disburse(year, "d-2", 100).status_code == 201
    assert [line["status"] for line in _statement(year)["lines"]] == [
        "disbursed",
        "disbursed",
        "pledged",
        "disbursed",
    ]


def test_the_shopper_reads_their_own_statement(year: Club) -> None:
    token = json.loads(year.post("/v1/members/ada/session", {}).body)["token"]
    mine = _get(year, f"/v1/shopper/impact?year={YEAR}", token)
    assert mine == _statement(year)


def test_a_void_restores_the_balance_and_lists_the_disbursement_voided(year: Club) -> None:
    assert _disburse(year, "d-1", 150).status_code == 201
    assert _disburse(year, "d-2", 100).status_code == 201
    response = year.post("/v1/disbursements/d-2/void", {"reason": "Recorded twice"}, key=BRAND_KEY)
    assert response.status_code == 200, response.body
    voided = json.loads(response.body)
    assert (voided["status"], voided["void_reason"], voided["amount"]) == ("voided", "Recorded twice", 100)

    listing = _get(year, "/v1/disbursements?cause_id=general-fund")["data"]
    assert [(d["disbursement_id"], d["status"], d["void_reason"]) for d in listing] == [
        ("d-2", "voided", "Recorded twice"),
        ("d-1", "recorded", None),
    ]
    month = (NOW - timedelta(hours=1)).strftime("%Y-%m")
    report = _get(year, f"/v1/reports/donations?from={month}&to={month}")
    assert report["totals"] == [
        {"cause_id": "general-fund", "currency": "usd", "net": 350, "disbursed": 150, "outstanding": 200}
    ]
    assert [line["status"] for line in _statement(year)["lines"]][1] == "pledged"
    again = year.post("/v1/disbursements/d-2/void", {"reason": "again"}, key=BRAND_KEY)
    assert again.status_code == 409
    assert json.loads(again.body)["error"]["code"] == "disbursement_voided"
    # The amount is payable again.
    assert _disburse(year, "d-3", 200).status_code == 201


def test_voiding_an_unknown_disbursement_is_404(club: Club) -> None:
    response = club.post("/v1/disbursements/nope/void", {"reason": "x"}, key=BRAND_KEY)
    assert response.status_code == 404


def _payouts(club: Club) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = _get(club, "/v1/reports/payouts")["data"]
    return rows


def test_payouts_say_since_when_and_overdue_follows_the_clock(year: Club) -> None:
    assert _disburse(year, "d-1", 150).status_code == 201
    april = datetime(YEAR, 4, 10, tzinfo=UTC)
    clock.set_clock(lambda: april + timedelta(days=90, hours=12))
    (row,) = _payouts(year)
    assert row == {"cause_id": "general-fund", "currency": "usd", "outstanding": 200,
                   "oldest_undisbursed_at": _rfc(april), "days_outstanding": 90, "overdue": False}  # fmt: skip
    clock.set_clock(lambda: april + timedelta(days=91))
    (row,) = _payouts(year)
    assert (row["days_outstanding"], row["overdue"]) == (91, True)
    csv_text = year.client.http.get("/v1/reports/payouts?format=csv", headers=auth(BRAND_KEY)).body.decode()
    assert csv_text.splitlines()[1] == f"general-fund,usd,200,2.00,{_rfc(april)},91,true"


def _overdue_events(club: Club) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = _get(club, "/v1/events?type=cause.payout_overdue")["data"]
    return events


def test_payout_overdue_fires_once_per_stretch(year: Club) -> None:
    april = datetime(YEAR, 4, 10, tzinfo=UTC)
    clock.set_clock(lambda: april + timedelta(days=91))
    # March's pledges are owed too: the oldest uncovered day is March's.
    assert giving.check_payouts(on_dynamodb()).notified == 1
    assert giving.check_payouts(on_dynamodb()).notified == 0
    (event,) = _overdue_events(year)
    assert event["customer_ref"] is None and event["sequence"] is None
    assert event["data"] == {"cause_id": "general-fund", "currency": "usd", "outstanding": 350,
                             "oldest_undisbursed_at": _rfc(datetime(YEAR, 3, 2, tzinfo=UTC))}  # fmt: skip
    clock.set_clock(None)
    assert _disburse(year, "d-1", 350).status_code == 201
    clock.set_clock(lambda: april + timedelta(days=91))
    assert giving.check_payouts(on_dynamodb()).cleared == 1
    # Paid up, then a new stretch: a pledge left unpaid past the due days notifies again.
    clock.set_clock(None)
    _order(year, "o-3", 10000, APRIL)
    clock.set_clock(lambda: april + timedelta(days=91))
    assert giving.check_payouts(on_dynamodb()).notified == 1
    assert len(_overdue_events(year)) == 2


def test_an_inactive_causes_member_pledges_to_the_default_cause(club: Club) -> None:
    club.join("ada")
    assert (
        club.client.http.put(
            "/v1/members/ada/cause",
            body=json.dumps({"cause_id": "school-meals"}),
            headers=auth(STOREFRONT_KEY),
        ).status_code
        == 200
    )
    response = club.client.http.patch(
        "/v1/causes/school-meals", body=json.dumps({"active": False}), headers=auth(BRAND_KEY)
    )
    assert response.status_code == 200, response.body
    membership = club.member("ada")
    assert (membership["cause_id"], membership["cause_active"]) == ("school-meals", False)
    _order(club, "o-1", 10000, MARCH)
    lines = _statement(club)["lines"]
    (order_line,) = [line for line in lines if line["source"] == {"order_id": "o-1"}]
    assert order_line["cause_id"] == "general-fund"


def test_patch_leaves_unsent_fields_alone(club: Club) -> None:
    response = club.client.http.patch(
        "/v1/causes/school-meals", body=json.dumps({"legal_name": "School Meals Foundation"}),
        headers=auth(BRAND_KEY),
    )  # fmt: skip
    cause = json.loads(response.body)
    assert cause == {"cause_id": "school-meals", "name": "School Meals", "legal_name": "School Meals Foundation",
                     "tax_id": None, "description": "", "url": None, "active": True,
                     "impact": {"unit": "meals", "amount_per_unit": 250}}  # fmt: skip
    response = club.client.http.patch(
        "/v1/plans/vip-monthly", body=json.dumps({"name": "VIP Month"}), headers=auth(BRAND_KEY)
    )
    plan = json.loads(response.body)
    assert (plan["name"], plan["amount"], plan["donation"]) == (
        "VIP Month",
        999,
        {"order_bps": 200, "renewal_bps": 1000},
    )
    bad = club.client.http.patch(
        "/v1/plans/vip-monthly", body=json.dumps({"amount": -1}), headers=auth(BRAND_KEY)
    )
    assert bad.status_code == 400 and json.loads(bad.body)["error"]["param"] == "amount"
    missing = club.client.http.patch(
        "/v1/causes/nope", body=json.dumps({"name": "x"}), headers=auth(BRAND_KEY)
    )
    assert missing.status_code == 404


def test_the_public_giving_record_shows_pledges_and_payouts_without_shopper_data(year: Club) -> None:
    assert _disburse(year, "d-1", 150).status_code == 201
    month = NOW.strftime("%Y-%m")
    record = _get(year, f"/v1/causes/general-fund/giving?from={YEAR}-01&to={month}", key=None)
    paid_month = (NOW - timedelta(hours=1)).strftime("%Y-%m")
    by_month = {m["period"]: (m["pledged_net"], m["disbursed"]) for m in record["months"]}
    assert by_month[f"{YEAR}-03"] == (200, 0) and by_month[f"{YEAR}-04"] == (100, 0)
    assert sum(net for net, _ in by_month.values()) == 350
    assert by_month[paid_month][1] == 150
    assert record["disbursements"] == [
        {"amount": 150, "currency": "usd", "paid_at": _rfc(NOW - timedelta(hours=1)),
         "receipt_url": "https://example.org/receipts/d-1.pdf"}
    ]  # fmt: skip
    assert "ada" not in json.dumps(record)


def test_the_statement_costs_the_same_reads_whatever_other_shoppers_order(year: Club) -> None:
    def reads() -> int:
        with counting_dynamodb_calls() as calls:
            _statement(year)
        return sum(calls.values())

    before = reads()
    year.join("bob")
    for n in range(5):
        _order(year, f"bob-{n}", 10000, APRIL, customer_ref="bob")
    assert reads() == before


def test_the_hourly_job_notifies_a_cause_that_became_overdue(year: Club) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.api.admin import reconcile_members
    from chalicelib.settings import settings
    from tests.helpers import lambda_context

    with Client(app) as test_client:
        event = test_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="us-east-1"
        )
    clock.set_clock(lambda: datetime(YEAR, 4, 10, tzinfo=UTC) + timedelta(days=91))
    for _ in range(2):
        reconcile_members(event, lambda_context("reconcile_members", settings.lambda_timeout_seconds))
    assert [e["data"]["cause_id"] for e in _overdue_events(year)] == ["general-fund"]


def test_a_disbursement_is_announced_to_the_brands_tools(year: Club) -> None:
    assert _disburse(year, "d-1", 150).status_code == 201
    (event,) = _get(year, "/v1/events?type=disbursement.recorded")["data"]
    assert event["customer_ref"] is None and event["sequence"] is None
    assert (event["data"]["disbursement"]["disbursement_id"], event["data"]["disbursement"]["amount"]) == (
        "d-1",
        150,
    )
    # A retry of the same disbursement records nothing, and announces nothing, again.
    assert _disburse(year, "d-1", 150).status_code == 200
    assert len(_get(year, "/v1/events?type=disbursement.recorded")["data"]) == 1


def test_the_printable_statement_shows_the_same_lines_and_totals(year: Club) -> None:
    assert _disburse(year, "d-1", 150).status_code == 201
    token = json.loads(year.post("/v1/members/ada/session", {}).body)["token"]
    response = year.client.http.get(f"/v1/shopper/impact/page?year={YEAR}", headers=auth(token))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.body.decode()
    assert f"<title>Giving statement {YEAR}</title>" in page and "@media print" in page
    assert page.count("<tr><td>") == 4 + 1 + 1  # four lines, one total, one payout
    assert f"<td>{MARCH:%Y-%m-%d}</td><td>Order o-1</td><td>General Fund</td><td>Pledge</td>" in page
    assert "<td class=n>−0.50 USD</td><td>Paid to the cause</td>" in page
    assert (
        "<td>General Fund</td><td class=n>4.00 USD</td><td class=n>0.50 USD</td><td class=n>3.50 USD</td>"
        in page
    )
    assert '<a href="https://example.org/receipts/d-1.pdf">Receipt</a>' in page


def test_a_renewal_adds_its_fee_pledge_to_the_statement_of_its_year(club: Club) -> None:
    subscription = club.join("ada")
    assert set(club.deliver(club.advance(subscription))) == {200}
    lines = []
    for year in {NOW.year, NOW.year + 1}:
        lines += _get(club, f"/v1/members/ada/impact_statement?year={year}", STOREFRONT_KEY)["lines"]
    fees = [line for line in lines if "invoice_id" in line["source"]]
    assert [(line["amount"], line["cause_id"], line["status"]) for line in fees] == [
        (100, "general-fund", "pledged"), (100, "general-fund", "pledged")
    ]  # fmt: skip
    assert len({line["source"]["invoice_id"] for line in fees}) == 2
    impact = club.member("ada")["impact"]["usd"]
    assert impact["pledged"] == sum(line["amount"] for line in fees) == 200
