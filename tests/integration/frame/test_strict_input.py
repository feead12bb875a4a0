"""Input per SPEC's Conventions: JSON bodies only, valid UTF-8, no repeated keys or query parameters."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store.catalog import CatalogRecord
from tests.helpers import BRAND_KEY

CAUSE = json.dumps({"name": "Ocean cleanup"})


def _error(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"} and set(body["error"]) == {"type", "code", "message", "param"}, body
    return dict(body["error"])


def _put_cause(client: Any, body: bytes | str, content_type: str | None = "application/json") -> Any:
    headers = {"Authorization": f"Bearer {BRAND_KEY}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.http.put("/v1/causes/ocean", body=body, headers=headers)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1"])  # fmt: skip
def test_a_body_that_is_not_declared_json_is_415_and_nothing_is_written(
    client: Any, keys: dict[str, str], content_type: str | None
) -> None:
    response = _put_cause(client, CAUSE, content_type)

    assert response.status_code == 415
    assert _error(response)["param"] == "Content-Type"
    assert CatalogRecord.count("CAUSE") == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON;charset=UTF-8"])  # fmt: skip
def test_json_with_or_without_the_utf8_charset_is_accepted(
    client: Any, keys: dict[str, str], content_type: str
) -> None:
    assert _put_cause(client, CAUSE, content_type).status_code == 200


def test_a_body_that_is_not_utf8_is_400(client: Any, keys: dict[str, str]) -> None:
    response = _put_cause(client, b'{"name": "Caf\xe9"}')

    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_utf8"
    assert CatalogRecord.count("CAUSE") == 0


@pytest.mark.parametrize(
    ("body", "param"),
    [('{"name": "a", "name": "b"}', "name"), ('{"name": "a", "impact": {"unit": "m", "unit": "t"}}', "unit")],
)
def test_a_repeated_json_key_is_400_naming_it(
    client: Any, keys: dict[str, str], body: str, param: str
) -> None:
    response = _put_cause(client, body)

    assert response.status_code == 400
    assert (_error(response)["code"], _error(response)["param"]) == ("duplicate_json_key", param)
    assert CatalogRecord.count("CAUSE") == 0


@pytest.mark.parametrize("written", ["250.0", "2.5e2", "25000e-2"])
def test_a_whole_number_written_with_a_fraction_or_exponent_is_an_integer(
    client: Any, keys: dict[str, str], written: str
) -> None:
    # JSON Schema (and so the OpenAPI document) counts 250.0 as an integer; so does the service.
    response = _put_cause(
        client, '{"name": "Meals", "impact": {"unit": "meals", "amount_per_unit": ' + written + "}}"
    )

    assert response.status_code == 200, response.body
    assert json.loads(response.body)["impact"]["amount_per_unit"] == 250
    assert CatalogRecord.count("CAUSE") == 1


@pytest.mark.parametrize("written", ["250.5", "1e-3", "1e300", "9.3e18"])
def test_a_number_that_is_not_a_whole_int64_is_400_naming_the_field(
    client: Any, keys: dict[str, str], written: str
) -> None:
    response = _put_cause(
        client, '{"name": "Meals", "impact": {"unit": "meals", "amount_per_unit": ' + written + "}}"
    )

    assert response.status_code == 400
    assert _error(response)["param"] == "impact.amount_per_unit"
    assert CatalogRecord.count("CAUSE") == 0


@pytest.mark.parametrize(
    "body", ['{"name": NaN}', '{"name": "a", "impact": {"unit": "m", "amount_per_unit": Infinity}}']
)
def test_javascript_number_constants_are_not_json(client: Any, keys: dict[str, str], body: str) -> None:
    response = _put_cause(client, body)

    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"
    assert CatalogRecord.count("CAUSE") == 0


def test_a_repeated_query_parameter_is_400_naming_it(client: Any) -> None:
    response = client.http.get("/v1/plans?limit=5&limit=50")

    assert response.status_code == 400
    assert (_error(response)["code"], _error(response)["param"]) == ("repeated_query_parameter", "limit")


def test_an_unknown_route_is_named_by_the_path_requested(client: Any) -> None:
    response = client.http.get("/v1/nothing/here/at%20all")

    assert response.status_code == 404
    assert _error(response)["message"] == "No such endpoint: GET /v1/nothing/here/at all."


def test_a_known_path_with_another_method_is_405_and_lists_the_allowed_ones(client: Any) -> None:
    response = client.http.delete("/v1/plans/vip-monthly")

    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert response.headers.get("Allow") == "PUT, PATCH"


def test_a_query_parameter_given_as_null_is_400_not_an_absent_filter(
    client: Any, keys: dict[str, str]
) -> None:
    response = client.http.get(
        "/v1/disbursements?currency=null", headers={"Authorization": f"Bearer {BRAND_KEY}"}
    )

    assert response.status_code == 400
    assert _error(response)["param"] == "currency"


def test_an_unknown_currency_is_400_naming_the_field_before_any_service_code(
    client: Any, keys: dict[str, str]
) -> None:
    response = client.http.get(
        "/v1/disbursements?currency=xyz", headers={"Authorization": f"Bearer {BRAND_KEY}"}
    )

    assert response.status_code == 400
    assert _error(response)["param"] == "currency"
