"""The public offer, "join and save" for a guest's cart, and the giving disclosure."""

from __future__ import annotations

import json
from typing import Any

from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

CART: dict[str, Any] = {
    "currency": "usd",
    "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2}, {"sku": "card", "unit_amount": 1000, "quantity": 1, "discountable": False}],
    "shipping": {"method": "standard", "amount": 695},
}  # fmt: skip


def get(club: Club, path: str) -> Any:
    response = club.client.http.get(path)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def preview(club: Club, cart: dict[str, Any]) -> Any:
    response = club.client.http.post(
        "/v1/offer/preview", body=json.dumps(cart), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_the_offer_lists_active_plans_in_the_currency_causes_and_the_disclosure(club: Club) -> None:
    offer = get(club, "/v1/offer?currency=usd")
    assert [p["plan_id"] for p in offer["plans"]] == ["vip-monthly", "vip-trial", "vip-yearly"]
    assert set(offer["plans"][0]) == {
        "plan_id",
        "name",
        "amount",
        "currency",
        "interval",
        "trial_days",
        "perks",
    }
    assert [c["cause_id"] for c in offer["causes"]] == ["general-fund", "school-meals"]
    assert offer["disclosure"] == get(club, "/v1/disclosure")
    assert get(club, "/v1/offer?currency=eur")["plans"] == []


def test_join_and_save_is_what_eligibility_says_for_a_guest(club: Club) -> None:
    eligibility = club.client.http.post(
        "/v1/eligibility", body=json.dumps(CART), headers=auth(STOREFRONT_KEY)
    )
    expected = json.loads(eligibility.body)["join_preview"]
    assert expected == {"plan_id": "vip-monthly", "saves": 500 + 695, "currency": "usd"}
    assert preview(club, CART) == {"join_preview": expected}


def test_join_and_save_is_null_when_no_plan_saves_anything(club: Club) -> None:
    cart = {
        "currency": "usd",
        "items": [{"sku": "card", "unit_amount": 1000, "quantity": 1, "discountable": False}],
    }
    assert preview(club, cart) == {"join_preview": None}


def test_a_preview_takes_no_shopper(club: Club) -> None:
    response = club.client.http.post(
        "/v1/offer/preview",
        body=json.dumps({**CART, "customer_ref": "ada"}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and json.loads(response.body)["error"]["param"] == "customer_ref"


def test_warm_offer_preview_and_disclosure_read_no_dynamodb(club: Club) -> None:
    get(club, "/v1/offer")
    with counting_dynamodb_calls() as calls:
        get(club, "/v1/offer?currency=usd")
        get(club, "/v1/disclosure")
        preview(club, CART)
    assert dict(calls) == {}


def test_causes_carry_their_legal_name_and_tax_id_into_the_list_and_the_disclosure(club: Club) -> None:
    cause = {"name": "School Meals", "legal_name": "School Meals Foundation Inc.", "tax_id": "12-3456789"}
    response = club.client.http.put(
        "/v1/causes/school-meals", body=json.dumps(cause), headers=auth(BRAND_KEY)
    )
    assert response.status_code == 200
    listed = {c["cause_id"]: c for c in get(club, "/v1/causes")["data"]}
    assert (listed["school-meals"]["legal_name"], listed["school-meals"]["tax_id"]) == (
        "School Meals Foundation Inc.",
        "12-3456789",
    )
    disclosure = get(club, "/v1/disclosure")
    assert {"cause_id": "school-meals", "name": "School Meals", "legal_name": "School Meals Foundation Inc.",
            "tax_id": "12-3456789", "url": None} in disclosure["causes"]  # fmt: skip
    assert "School Meals (School Meals Foundation Inc., tax id 12-3456789)" in disclosure["text"]


def test_the_disclosure_states_each_plans_terms_as_configured_and_since_when(club: Club) -> None:
    disclosure = get(club, "/v1/disclosure")
    monthly = next(p for p in disclosure["plans"] if p["plan_id"] == "vip-monthly")
    assert (monthly["order_bps"], monthly["renewal_bps"]) == (200, 1000)
    assert monthly["text"].startswith(
        "VIP Monthly: 2 % of the price of every member order and 10 % of each membership fee go to the cause "
        "you choose, with no maximum, since "
    )
    assert disclosure["cap"] is None and disclosure["period"]["until"] is None
    assert disclosure["period"]["from"] is not None


def test_changing_a_plans_giving_restarts_its_since_and_other_edits_keep_it(club: Club) -> None:
    plans = {p["plan_id"]: p for p in get(club, "/v1/plans")["data"]}
    since = plans["vip-monthly"]["donation_since"]
    terms = {
        k: plans["vip-monthly"][k] for k in ("name", "amount", "currency", "interval", "perks", "donation")
    }
    renamed = club.client.http.put(
        "/v1/plans/vip-monthly", body=json.dumps({**terms, "name": "VIP Month"}), headers=auth(BRAND_KEY)
    )
    assert json.loads(renamed.body)["donation_since"] == since
    more = {**terms, "donation": {"order_bps": 500, "renewal_bps": 1000}}
    changed = club.client.http.put("/v1/plans/vip-monthly", body=json.dumps(more), headers=auth(BRAND_KEY))
    assert json.loads(changed.body)["donation_since"] > since
