"""The OpenAPI document covers exactly the routes the app serves."""

from __future__ import annotations

import json
from typing import Any

from app import app
from chalicelib.api.fallback import FALLBACK_PATHS


def test_every_route_is_documented_and_every_documented_route_exists(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = {
        (path, method)
        for path, methods in app.routes.items()
        if path not in FALLBACK_PATHS
        for method in methods
    }
    assert documented == served


def test_document_is_openapi_3_with_schemas_for_request_bodies(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    assert document["openapi"].startswith("3.")
    put_plan = document["paths"]["/v1/plans/{plan_id}"]["put"]
    ref = put_plan["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] in document["components"]["schemas"]
    assert "Error" in document["components"]["schemas"]
