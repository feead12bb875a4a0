"""Refund and disbursement replays, the disbursement list's pages, and member impact in a cause's units."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

PAID_AT = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
# Joining paid the first 9.99 fee, which pledged 10 % of it to the default cause.
FEE_PLEDGE = 100


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")  # vip-monthly: 2 % of each order to the default cause
    return club


def _order(club: Club, order_id: str, amount: int) -> Any:
    return club.post(
        "/v1/orders", {"order_id": order_id, "customer_ref": "ada", "currency": "usd", "amount": amount}
    )


def _refund(club: Club, order_id: str, refund_id: str, amount: int) -> Any:
    return club.post(f"/v1/orders/{order_id}/refunds", {"refund_id": refund_id, "amount": amount})


def _disburse(club: Club, disbursement_id: str, amount: int, **extra: Any) -> Any:
    body = {
        "disbursement_id": disbursement_id, "cause_id": "general-fund", "currency": "usd", "amount": amount,
        "paid_at": PAID_AT, "reference": f"wire {disbursement_id}", **extra,
    }  # fmt: skip
    return club.post("/v1/disbursements", body, key=BRAND_KEY)


def _totals(club: Club) -> list[dict[str, Any]]:
    month = PAID_AT[:7]
    response = club.client.http.get(f"/v1/reports/donations?from={month}&to={month}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    totals: list[dict[str, Any]] = json.loads(response.body)["totals"]
    return totals


def test_the_same_refund_again_answers_the_same_and_reverses_nothing_more(member: Club) -> None:
    assert _order(member, "o-1", 10_000).status_code == 201  # pledges 200
    first = _refund(member, "o-1", "r-1", 3_333)
    again = _refund(member, "o-1", "r-1", 3_333)

    assert first.status_code == 201 and again.status_code == 200
    assert json.loads(again.body) == json.loads(first.body)
    assert json.loads(first.body)["donation_reversed"] == 67  # round half up(200 × 3333 / 10000) = 66.66…
    assert _totals(member)[0]["net"] == FEE_PLEDGE + 200 - 67


def test_the_same_refund_id_with_another_amount_is_a_conflict(member: Club) -> None:
    _order(member, "o-1", 10_000)
    _refund(member, "o-1", "r-1", 1_000)

    other = _refund(member, "o-1", "r-1", 2_000)

    assert other.status_code == 409
    assert json.loads(other.body)["error"]["param"] == "refund_id"
    assert _totals(member)[0]["net"] == FEE_PLEDGE + 200 - 20


def test_a_replayed_refund_is_answered_even_once_later_refunds_used_up_the_order(member: Club) -> None:
    _order(member, "o-1", 10_000)
    first = _refund(member, "o-1", "r-1", 4_000)
    _refund(member, "o-1", "r-2", 6_000)

    again = _refund(member, "o-1", "r-1", 4_000)

    assert again.status_code == 200 and json.loads(again.body) == json.loads(first.body)
    assert _totals(member)[0]["net"] == FEE_PLEDGE  # the order's 200 fully reversed


def test_the_same_disbursement_again_answers_the_same_and_pays_out_once(member: Club) -> None:
    _order(member, "o-1", 50_000)  # pledges 1000
    first = _disburse(member, "d-1", 400)
    again = _disburse(member, "d-1", 400)
    other = _disburse(member, "d-1", 500)

    assert first.status_code == 201 and again.status_code == 200
    assert json.loads(again.body) == json.loads(first.body)
    assert other.status_code == 409 and json.loads(other.body)["error"]["param"] == "disbursement_id"
    assert _totals(member) == [
        {"cause_id": "general-fund", "currency": "usd", "net": 1100, "disbursed": 400, "outstanding": 700}
    ]


def test_a_disbursement_beyond_the_balance_names_the_outstanding_amount(member: Club) -> None:
    _order(member, "o-1", 50_000)  # pledges 1000, with the fee's 100: 1100 owed
    _disburse(member, "d-1", 700)

    refused = _disburse(member, "d-2", 401)

    assert refused.status_code == 409
    error = json.loads(refused.body)["error"]
    assert error["param"] == "amount" and "400" in error["message"]
    assert _disburse(member, "d-2", 400).status_code == 201
    assert _totals(member)[0]["outstanding"] == 0


def test_disbursements_to_an_unknown_cause_or_in_an_unknown_currency_are_refused(member: Club) -> None:
    unknown_cause = _disburse(member, "d-1", 1, cause_id="no-such-cause")
    unknown_currency = _disburse(member, "d-2", 1, currency="xyz")

    assert unknown_cause.status_code == 400 and json.loads(unknown_cause.body)["error"]["param"] == "cause_id"
    assert unknown_currency.status_code == 400
    assert json.loads(unknown_currency.body)["error"]["param"] == "currency"


def _page(club: Club, query: str) -> dict[str, Any]:
    response = club.client.http.get(f"/v1/disbursements{query}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    result: dict[str, Any] = json.loads(response.body)
    return result


def _ids(page: dict[str, Any]) -> list[str]:
    return [d["disbursement_id"] for d in page["data"]]


def test_disbursements_are_listed_newest_first_in_pages(member: Club) -> None:
    _order(member, "o-1", 50_000)  # pledges 1000
    for n in range(5):
        assert _disburse(member, f"d-{n}", 10, receipt_url=f"https://receipts.example/{n}").status_code == 201

    first = _page(member, "?limit=2")
    second = _page(member, "?limit=2&starting_after=d-3")
    last = _page(member, "?limit=2&starting_after=d-1")

    assert _ids(first) == ["d-4", "d-3"] and first["has_more"]
    assert _ids(second) == ["d-2", "d-1"] and second["has_more"]
    assert _ids(last) == ["d-0"] and not last["has_more"]
    assert first["data"][1]["receipt_url"] == "https://receipts.example/3"
    assert first["data"][1]["reference"] == "wire d-3"


@pytest.fixture
def payouts(member: Club) -> Club:
    """Disbursements to two causes in two currencies, recorded in the order d-0 .. d-5."""
    response = member.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 200, response.body
    for currency in ("usd", "eur"):
        body = {"order_id": f"o-{currency}", "customer_ref": "ada", "currency": currency, "amount": 50_000}
        assert member.post("/v1/orders", body).status_code == 201  # pledges 1000 to school-meals
    for n, (cause_id, currency) in enumerate(
        [("general-fund", "usd"), ("school-meals", "usd"), ("school-meals", "eur")] * 2
    ):
        assert _disburse(member, f"d-{n}", 10, cause_id=cause_id, currency=currency).status_code == 201
    return member


def test_disbursements_of_one_cause_are_listed_newest_first(payouts: Club) -> None:
    assert _ids(_page(payouts, "?cause_id=school-meals")) == ["d-5", "d-4", "d-2", "d-1"]
    assert _ids(_page(payouts, "?cause_id=general-fund")) == ["d-3", "d-0"]


def test_disbursements_in_one_currency_are_listed_newest_first_across_causes(payouts: Club) -> None:
    assert _ids(_page(payouts, "?currency=usd")) == ["d-4", "d-3", "d-1", "d-0"]
    assert _ids(_page(payouts, "?currency=eur&cause_id=school-meals")) == ["d-5", "d-2"]


def test_filtered_pages_continue_after_the_cursor(payouts: Club) -> None:
    first = _page(payouts, "?cause_id=school-meals&limit=3")
    rest = _page(payouts, "?cause_id=school-meals&limit=3&starting_after=d-2")

    assert _ids(first) == ["d-5", "d-4", "d-2"] and first["has_more"]
    assert _ids(rest) == ["d-1"] and not rest["has_more"]


def test_an_unknown_cursor_or_currency_is_refused_naming_the_parameter(member: Club) -> None:
    for query, param in (("?starting_after=nope", "starting_after"), ("?currency=xyz", "currency")):
        response = member.client.http.get(f"/v1/disbursements{query}", headers=auth(BRAND_KEY))
        assert response.status_code == 400 and json.loads(response.body)["error"]["param"] == param


def test_only_the_brand_team_records_or_lists_disbursements(member: Club) -> None:
    assert _disburse(member, "d-1", 1).status_code == 201
    storefront = member.client.http.get("/v1/disbursements", headers=auth(STOREFRONT_KEY))
    posted = member.post(
        "/v1/disbursements",
        {"disbursement_id": "d-2", "cause_id": "general-fund", "currency": "usd", "amount": 1,
         "paid_at": PAID_AT, "reference": "x"},
        key=STOREFRONT_KEY,
    )  # fmt: skip
    assert storefront.status_code == 403 and posted.status_code == 403


def test_a_member_who_changed_cause_sees_each_causes_money_in_its_own_unit(member: Club) -> None:
    response = member.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 200, response.body
    _order(member, "o-1", 50_000)  # pledges 1000 to school-meals
    _refund(member, "o-1", "r-1", 5_000)  # reverses 100

    impact = member.member("ada")["impact"]["usd"]

    # Everything the shopper's fee and orders did, whichever cause each went to.
    assert (impact["pledged"], impact["reversed"], impact["net"]) == (FEE_PLEDGE + 1000, 100, 1000)
    # The fee's pledge went to the default cause (no unit); school meals got 900, at 250 a meal.
    assert impact["causes"] == [
        {"cause_id": "general-fund", "pledged": FEE_PLEDGE, "reversed": 0, "net": FEE_PLEDGE, "units": None},
        {"cause_id": "school-meals", "pledged": 1000, "reversed": 100, "net": 900, "units": "3 meals"},
    ]
    assert impact["units"] == "3 meals"


def test_one_unit_of_impact_is_singular(member: Club) -> None:
    member.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    _order(member, "o-1", 12_500)  # pledges 250: one meal

    assert member.member("ada")["impact"]["usd"]["units"] == "1 meal"
