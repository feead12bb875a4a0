"""Every failure answers in the contract's error shape, never Chalice's {"Code","Message"}."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store.catalog import CatalogRecord
from tests.helpers import BRAND_KEY, auth


def _error(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"type", "code", "message", "param"}
    return dict(body["error"])


def test_malformed_json_is_400_invalid_json(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put("/v1/causes/ocean", body="{not json", headers=auth(BRAND_KEY))
    assert response.status_code == 400
    assert _error(response)["code"] == "invalid_json"
    assert CatalogRecord.count("CAUSE") == 0


def test_unknown_route_is_404_in_the_error_shape(client: Any) -> None:
    response = client.http.get("/v1/nothing/here")
    assert response.status_code == 404
    error = _error(response)
    assert error["type"] == "invalid_request" and error["code"] == "route_not_found"


def test_unknown_method_on_a_known_route_is_405_in_the_error_shape(client: Any) -> None:
    response = client.http.delete("/v1/plans")
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"description": "no name"}, "name"),
        ({"name": "x", "url": "ftp://nope"}, "url"),
        ({"name": "x", "impact": {"unit": "meals", "amount_per_unit": 0}}, "impact.amount_per_unit"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": 5}, "name"),
    ],
)
def test_invalid_fields_are_named_and_nothing_is_written(
    client: Any, keys: dict[str, str], body: dict[str, Any], param: str
) -> None:
    response = client.http.put("/v1/causes/ocean", body=json.dumps(body), headers=auth(BRAND_KEY))
    assert response.status_code == 400
    assert _error(response)["param"] == param
    assert CatalogRecord.count("CAUSE") == 0


def test_invalid_path_id_is_named(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put("/v1/causes/bad%20id", body=json.dumps({"name": "x"}), headers=auth(BRAND_KEY))
    assert response.status_code == 400
    assert _error(response)["param"] == "cause_id"


def test_invalid_query_parameter_is_named(client: Any) -> None:
    response = client.http.get("/v1/plans?limit=500")
    assert response.status_code == 400
    assert _error(response)["param"] == "limit"


def test_wrong_content_type_is_415_in_the_error_shape(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put(
        "/v1/causes/ocean", body="name=x", headers={**auth(BRAND_KEY), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert _error(response)["type"] == "invalid_request"
