"""The shopper API: the token's shopper reads and changes their own club; URLs stay on the storefront."""

from __future__ import annotations

import json

import pytest

from tests.helpers import STOREFRONT_KEY, auth
from tests.integration.conftest import Club
from tests.integration.shopper.conftest import STOREFRONT, as_shopper, mint


def test_a_member_reads_their_own_membership(club: Club) -> None:
    club.join("ada")
    answer = json.loads(
        club.client.http.get("/v1/shopper/membership", headers=as_shopper(mint(club.client, "ada"))).body
    )
    assert answer == club.member("ada")


def test_changing_the_cause_changes_it_for_the_shopper_in_the_api(club: Club) -> None:
    club.join("ada")
    response = club.client.http.put(
        "/v1/shopper/cause",
        body=json.dumps({"cause_id": "school-meals"}),
        headers=as_shopper(mint(club.client, "ada")),
    )
    assert response.status_code == 200
    assert json.loads(response.body)["cause_id"] == "school-meals"
    assert club.member("ada")["cause_id"] == "school-meals"


def test_an_unknown_cause_is_refused_naming_it(club: Club) -> None:
    club.join("ada")
    response = club.client.http.put(
        "/v1/shopper/cause",
        body=json.dumps({"cause_id": "nope"}),
        headers=as_shopper(mint(club.client, "ada")),
    )
    assert response.status_code == 400 and json.loads(response.body)["error"]["param"] == "cause_id"


def test_the_shopper_starts_a_checkout_that_returns_to_the_storefront(club: Club) -> None:
    token = mint(club.client, "newbie")
    response = club.client.http.post(
        "/v1/shopper/checkout",
        body=json.dumps({"plan_id": "vip-monthly", "success_url": f"{STOREFRONT}/welcome", "cancel_url": f"{STOREFRONT}/cart"}),
        headers=as_shopper(token),
    )  # fmt: skip
    assert response.status_code == 201, response.body
    started = json.loads(response.body)
    club.pay(started["session_id"])
    assert set(club.deliver(club.emulator.events)) == {200}
    assert club.member("newbie")["perks_active"] is True


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/welcome", "https://shop.example.com.evil.example/", "http://shop.example.com/",
     "https://shop.example.com:8443/", "https://user@evil.example/", "javascript://shop.example.com/%0aalert(1)"],
)  # fmt: skip
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_a_checkout_url_off_the_storefront_is_refused(club: Club, field: str, url: str) -> None:
    body = {
        "plan_id": "vip-monthly",
        "success_url": f"{STOREFRONT}/ok",
        "cancel_url": f"{STOREFRONT}/cart",
        field: url,
    }
    before = len(club.emulator.events)
    response = club.client.http.post(
        "/v1/shopper/checkout", body=json.dumps(body), headers=as_shopper(mint(club.client, "ada"))
    )
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert error["param"] in (field, None) and error["code"] in ("invalid_url", "invalid_field")
    assert club.emulator.events_since(before) == []


def test_the_portal_opens_for_a_member_and_returns_to_the_storefront(club: Club) -> None:
    club.join("ada")
    token = mint(club.client, "ada")
    response = club.client.http.post(
        "/v1/shopper/portal", body=json.dumps({"return_url": "https://Shop.Example.com:443/account"}),
        headers=as_shopper(token),
    )  # fmt: skip
    assert response.status_code == 200 and json.loads(response.body)["portal_url"].startswith("http")


def test_a_portal_return_url_off_the_storefront_is_refused(club: Club) -> None:
    club.join("ada")
    response = club.client.http.post(
        "/v1/shopper/portal", body=json.dumps({"return_url": "https://evil.example/account"}),
        headers=as_shopper(mint(club.client, "ada")),
    )  # fmt: skip
    assert response.status_code == 400
    assert json.loads(response.body)["error"] | {"message": ""} == {
        "type": "invalid_request", "code": "invalid_url", "param": "return_url", "message": "",
    }  # fmt: skip


def test_the_server_to_server_checkout_keeps_accepting_any_url(club: Club) -> None:
    response = club.client.http.post(
        "/v1/members/ada/checkout",
        body=json.dumps({"plan_id": "vip-monthly", "email": "ada@example.com",
                         "success_url": "https://elsewhere.example/ok", "cancel_url": "https://elsewhere.example/no"}),
        headers=auth(STOREFRONT_KEY),
    )  # fmt: skip
    assert response.status_code == 201
