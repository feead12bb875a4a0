"""CORS: the browser-facing routes answer the storefront's origins (preflight and errors included) and no
other; every other route sends no CORS header at all."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import STOREFRONT_KEY, auth
from tests.integration.conftest import Club
from tests.integration.shopper.conftest import STOREFRONT, as_shopper, mint

CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers")


def cors_of(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/shopper/membership", "GET"), ("/v1/shopper/cause", "PUT"), ("/v1/shopper/checkout", "POST"),
     ("/v1/shopper/portal", "POST"), ("/v1/offer", "GET"), ("/v1/offer/preview", "POST"), ("/v1/disclosure", "GET")],
)  # fmt: skip
def test_a_preflight_from_the_storefront_is_allowed(client: Any, path: str, method: str) -> None:
    response = client.http.request(
        "OPTIONS", path,
        headers={"Origin": STOREFRONT, "Access-Control-Request-Method": method,
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )  # fmt: skip
    assert response.status_code == 204
    cors = cors_of(response)
    assert cors["access-control-allow-origin"] == STOREFRONT
    assert method in cors["access-control-allow-methods"]
    assert {"authorization", "content-type"} <= {
        h.strip() for h in cors["access-control-allow-headers"].split(",")
    }


def test_a_preflight_from_another_origin_gets_no_permission(client: Any) -> None:
    response = client.http.request(
        "OPTIONS", "/v1/shopper/membership",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )  # fmt: skip
    assert cors_of(response) == {}


def test_the_shopper_api_answers_the_storefront_origin_even_with_an_error(
    client: Any, keys: dict[str, str]
) -> None:
    ok = client.http.get("/v1/shopper/membership", headers=as_shopper(mint(client, "ada"), Origin=STOREFRONT))
    refused = client.http.get(
        "/v1/shopper/membership", headers={"Origin": STOREFRONT, "Authorization": "Bearer x"}
    )
    assert refused.status_code == 401
    for response in (ok, refused):
        assert cors_of(response)["access-control-allow-origin"] == STOREFRONT
        assert response.headers.get("Vary") == "Origin"


def test_a_page_on_another_origin_gets_no_cors_permission_to_read_shopper_data(
    client: Any, keys: dict[str, str]
) -> None:
    response = client.http.get(
        "/v1/shopper/membership", headers=as_shopper(mint(client, "ada"), Origin="https://evil.example")
    )
    assert cors_of(response) == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/members/ada"), ("POST", "/v1/members/ada/session"), ("POST", "/v1/eligibility"),
     ("GET", "/v1/plans"), ("GET", "/v1/reports/memberships"), ("GET", "/dashboard"), ("GET", "/v1/openapi.json")],
)  # fmt: skip
def test_server_to_server_routes_send_no_cors_headers(club: Club, method: str, path: str) -> None:
    response = club.client.http.request(
        method, path, body=b"{}", headers=auth(STOREFRONT_KEY, Origin=STOREFRONT)
    )
    # (Their preflights are not routes of the app: API Gateway refuses them; `chalice local` answers them
    # itself with `Access-Control-Allow-Methods: OPTIONS` and no allowed origin, which grants nothing.)
    assert cors_of(response) == {}


def test_the_kit_may_be_imported_by_any_page(client: Any) -> None:
    response = client.http.get("/kit/vip.js", headers={"Origin": "https://any.example"})
    assert response.status_code == 200 and cors_of(response) == {"access-control-allow-origin": "*"}


def test_offer_from_the_storefront_carries_cors_and_cache_headers(club: Club) -> None:
    response = club.client.http.get("/v1/offer", headers={"Origin": STOREFRONT})
    assert cors_of(response)["access-control-allow-origin"] == STOREFRONT
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert json.loads(response.body)["plans"]
