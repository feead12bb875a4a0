"""API keys: 401 without a valid key, 403 for the wrong role, revocation, hashed storage."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.store.api_keys import ApiKeyRecord
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth

CAUSE = {"name": "Ocean Cleanup", "description": "", "active": True}


def _error(response: Any) -> dict[str, Any]:
    body = json.loads(response.body)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "code", "message", "param"}
    return dict(body["error"])


def test_missing_key_is_401_naming_the_header(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put(
        "/v1/causes/ocean", body=json.dumps(CAUSE), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    error = _error(response)
    assert error["type"] == "authentication"
    assert error["param"] == "Authorization"


def test_unknown_key_is_401(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put("/v1/causes/ocean", body=json.dumps(CAUSE), headers=auth("not-a-key"))
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_api_key"


def test_storefront_key_on_a_brand_endpoint_is_403(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put("/v1/causes/ocean", body=json.dumps(CAUSE), headers=auth(STOREFRONT_KEY))
    assert response.status_code == 403
    assert _error(response)["type"] == "permission"


def test_brand_key_may_use_brand_endpoints(client: Any, keys: dict[str, str]) -> None:
    response = client.http.put("/v1/causes/ocean", body=json.dumps(CAUSE), headers=auth(BRAND_KEY))
    assert response.status_code == 200
    assert json.loads(response.body)["cause_id"] == "ocean"


def test_minted_key_works_and_is_stored_only_as_a_hash(client: Any, keys: dict[str, str]) -> None:
    response = client.http.post(
        "/v1/api-keys", body=json.dumps({"role": "storefront", "name": "shop"}), headers=auth(BRAND_KEY)
    )
    assert response.status_code == 201
    minted = json.loads(response.body)
    assert minted["role"] == "storefront" and minted["secret"]
    stored = ApiKeyRecord.get(minted["key_id"])
    assert minted["secret"] not in json.dumps(stored.attribute_values, default=str)
    listed = client.http.put("/v1/causes/x", body=json.dumps(CAUSE), headers=auth(minted["secret"]))
    assert listed.status_code == 403  # known key, storefront role


def test_revoked_key_stops_working(client: Any, keys: dict[str, str]) -> None:
    minted = json.loads(
        client.http.post(
            "/v1/api-keys", body=json.dumps({"role": "brand", "name": "temp"}), headers=auth(BRAND_KEY)
        ).body
    )
    assert (
        client.http.put("/v1/causes/x", body=json.dumps(CAUSE), headers=auth(minted["secret"])).status_code
        == 200
    )
    revoked = client.http.delete(f"/v1/api-keys/{minted['key_id']}", headers=auth(BRAND_KEY))
    assert revoked.status_code == 204
    # Revocation in this container is immediate; other containers follow within the cache TTL.
    again = client.http.put("/v1/causes/x", body=json.dumps(CAUSE), headers=auth(minted["secret"]))
    assert again.status_code == 401


def test_revoking_an_unknown_key_is_404(client: Any, keys: dict[str, str]) -> None:
    response = client.http.delete("/v1/api-keys/key_nope", headers=auth(BRAND_KEY))
    assert response.status_code == 404
    assert _error(response)["param"] == "key_id"


def test_minting_with_a_bad_role_names_the_field(client: Any, keys: dict[str, str]) -> None:
    response = client.http.post(
        "/v1/api-keys", body=json.dumps({"role": "admin", "name": "x"}), headers=auth(BRAND_KEY)
    )
    assert response.status_code == 400
    assert _error(response)["param"] == "role"
