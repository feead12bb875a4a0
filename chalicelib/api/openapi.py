"""The OpenAPI 3 document, generated from the endpoint registry and the schemas that validate requests."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from chalice.app import Blueprint

from chalicelib.api.routing import PUBLIC, REGISTRY, Call, EndpointSpec, NoBody, NoQuery, Reply, endpoint
from chalicelib.api.schemas import Error
from chalicelib.domain.catalog import ID_PATTERN

openapi_api = Blueprint(__name__)

_ERROR_TEXT = {
    400: "Invalid request: `param` names the field",
    401: "Missing or unknown API key",
    403: "The key's role may not use this endpoint",
    404: "Not found",
    409: "Conflict (duplicate id with another body, Idempotency-Key reused, state forbids it)",
    422: "Unprocessable",
    502: "Stripe or another dependency is unreachable; nothing was written",
    503: "Temporarily unavailable; retry",
}
_REF = "#/components/schemas/{name}"


def _query_parameters(query: type) -> list[dict[str, Any]]:
    if query is NoQuery:
        return []
    (schema,), components = msgspec.json.schema_components([query], ref_template=_REF)
    name = schema["$ref"].rsplit("/", 1)[-1]
    body = components[name]
    required = set(body.get("required", []))
    return [
        {"name": field, "in": "query", "required": field in required, "schema": prop}
        for field, prop in body.get("properties", {}).items()
    ]


def _operation(spec: EndpointSpec, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    route = spec.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    op: dict[str, Any] = {
        "operationId": f"{spec.method.lower()}_{route}",
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string", "pattern": ID_PATTERN}}
            for p in spec.path_params
        ]
        + _query_parameters(spec.query),
    }
    if spec.description:
        op["description"] = spec.description
    if spec.idempotent:
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "A retry with the same key and body returns the first response.",
            }
        )
    if spec.body is not NoBody:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[spec.body]}}}
    success: dict[str, Any] = {"description": "OK"}
    if spec.response is not None:
        success["content"] = {spec.content_type: {"schema": refs[spec.response]}}
    op["responses"] = {str(spec.status): success}
    codes = set(spec.errors) | {400}
    if spec.roles is None:
        op["security"] = []
    else:
        codes |= {401, 403}
    for code in sorted(codes):
        op["responses"][str(code)] = {
            "description": _ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": refs[Error]}},
        }
    return op


@cache
def document() -> dict[str, Any]:
    types: list[Any] = [Error]
    for spec in REGISTRY:
        for t in (spec.body, spec.response):
            if t is not None and t is not NoBody and t not in types:
                types.append(t)
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    refs = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for spec in REGISTRY:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VIP Rewards API",
            "version": "1.0.0",
            "description": "Paid VIP club: Stripe memberships, perks at checkout, and a donations ledger.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "paths": paths,
    }


@endpoint(
    openapi_api, "GET", "/v1/openapi.json", summary="This document", tag="meta", roles=PUBLIC,
)  # fmt: skip
def openapi_json(call: Call[Any, Any]) -> Reply:
    return Reply(document())
