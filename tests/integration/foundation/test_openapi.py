"""The OpenAPI document covers exactly the routes the app serves."""

from __future__ import annotations

import json
from typing import Any

from app import app
from chalicelib.api.cors import STOREFRONT_ROUTES
from chalicelib.api.fallback import FALLBACK_PATHS


def test_every_route_is_documented_and_every_documented_route_exists(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = {
        (path, method)
        for path, methods in app.routes.items()
        if path not in FALLBACK_PATHS
        for method in methods
        # CORS preflights of the browser-facing routes answer browsers, not API clients.
        if not (method == "OPTIONS" and path in STOREFRONT_ROUTES)
    }
    assert documented == served


def test_document_is_openapi_3_with_schemas_for_request_bodies(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    assert document["openapi"].startswith("3.")
    put_plan = document["paths"]["/v1/plans/{plan_id}"]["put"]
    ref = put_plan["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.rsplit("/", 1)[-1] in document["components"]["schemas"]
    assert "Error" in document["components"]["schemas"]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()
    ]


def test_document_passes_the_openapi_validator(client: Any) -> None:
    from openapi_spec_validator import validate

    validate(json.loads(client.http.get("/v1/openapi.json").body))


def test_every_request_and_response_body_has_an_example(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    missing = []
    for method, path, op in _operations(document):
        bodies = [("request", media) for media in op.get("requestBody", {}).get("content", {}).values()]
        bodies += [
            (status, media)
            for status, answer in op["responses"].items()
            for media in answer.get("content", {}).values()
        ]
        missing += [f"{method} {path} {where}" for where, media in bodies if media.get("example") is None]
        missing += [
            f"{method} {path} path parameter {p['name']}"
            for p in op["parameters"]
            if p["in"] == "path" and "example" not in p
        ]
    assert missing == []


def test_every_example_matches_its_schema(client: Any) -> None:
    from jsonschema import Draft202012Validator

    document = json.loads(client.http.get("/v1/openapi.json").body)

    def validator(schema: dict[str, Any]) -> Any:
        # The components travel with the schema so that its `#/components/...` references resolve.
        return Draft202012Validator({**schema, "components": document["components"]})

    invalid = []
    for method, path, op in _operations(document):
        contents = [("request", op["requestBody"]["content"])] if "requestBody" in op else []
        contents += [(status, answer.get("content", {})) for status, answer in op["responses"].items()]
        for where, content in contents:
            for media_type, media in content.items():
                errors = validator(media["schema"]).iter_errors(media["example"])
                invalid += [f"{method} {path} {where} {media_type}: {e.message}" for e in errors]
        for p in op["parameters"]:
            if "example" in p:
                errors = validator(p["schema"]).iter_errors(p["example"])
                invalid += [f"{method} {path} {p['name']}: {e.message}" for e in errors]
    assert invalid == []


def test_every_operation_documents_what_the_frame_can_answer(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    for method, path, op in _operations(document):
        statuses = set(op["responses"])
        assert {"400", "405", "415", "429", "500", "502", "503"} <= statuses, (method, path)
        if op.get("security") != []:
            assert "401" in statuses, (method, path)
        for status in ("429", "502", "503"):
            assert "Retry-After" in op["responses"][status]["headers"], (method, path, status)


def test_idempotent_posts_document_the_replay_and_the_conflict(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    for method, path, op in _operations(document):
        if any(p["name"] == "Idempotency-Key" for p in op["parameters"]):
            assert {"200", "409"} <= set(op["responses"]), (method, path)
            assert "Idempotent-Replayed" in op["responses"]["200"]["headers"], (method, path)


def test_brand_only_operations_document_the_wrong_role(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    assert "403" in document["paths"]["/v1/reports/donations"]["get"]["responses"]
    assert "403" not in document["paths"]["/v1/eligibility"]["post"]["responses"]


SNAPSHOT_REPORTS = {"/v1/reports/payouts"}


def test_reports_document_months_and_their_csv_form(client: Any) -> None:
    document = json.loads(client.http.get("/v1/openapi.json").body)
    for path, op in ((p, ops["get"]) for p, ops in document["paths"].items() if p.startswith("/v1/reports/")):
        months = [p for p in op["parameters"] if p["name"] in ("from", "to")]
        # What causes are owed is a snapshot of now, not a month range.
        assert (months or path in SNAPSHOT_REPORTS) and all(
            p["schema"].get("pattern") == r"^(20[0-9]{2}|21[0-9]{2})-(0[1-9]|1[0-2])(?!\n)$" for p in months
        ), path
        formats = [p["schema"]["enum"] for p in op["parameters"] if p["name"] == "format"]
        if formats:
            assert [set(f) for f in formats] == [{"json", "csv"}], path
            assert "text/csv" in op["responses"]["200"]["content"], path
    donations = document["paths"]["/v1/reports/donations"]["get"]
    assert "text/csv" in donations["responses"]["200"]["content"]


def test_docs_api_shows_every_endpoint_as_declared() -> None:
    from localdev.api_docs import current_page

    text, wanted = current_page()
    assert text == wanted, "docs/api.md is out of date: run `python -m localdev.api_docs`"


def test_currencies_are_the_enum_the_decoder_enforces_in_values_and_map_keys(client: Any) -> None:
    from chalicelib.domain.money import CURRENCIES

    schemas = json.loads(client.http.get("/v1/openapi.json").body)["components"]["schemas"]
    min_subtotal = schemas["FreeShipping"]["properties"]["min_subtotal"]

    assert schemas["Cart"]["properties"]["currency"]["enum"] == sorted(CURRENCIES)
    assert min_subtotal["propertyNames"]["enum"] == sorted(CURRENCIES)
    assert (
        min_subtotal["maxProperties"],
        schemas["FreeShipping"]["properties"]["methods"]["anyOf"][0]["maxItems"],
    ) == (
        len(CURRENCIES),
        50,
    )
