"""The OpenAPI 3 document, generated from the endpoint registry and the schemas that validate requests."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from chalice.app import Blueprint

from chalicelib.api.routing import (
    JSON,
    PUBLIC,
    REGISTRY,
    Call,
    EndpointSpec,
    Example,
    NoBody,
    NoQuery,
    Reply,
    endpoint,
)
from chalicelib.api.schemas import Error
from chalicelib.domain.catalog import ID_PATTERN
from chalicelib.services import idempotency

openapi_api = Blueprint(__name__)

# Every status an operation can answer, with its meaning and an example body. The frame (routing.py,
# middleware.py, Chalice, API Gateway) can answer these on any operation; routes declare the rest.
_ERRORS: dict[int, tuple[str, str, str, str | None]] = {
    400: (
        "Invalid request: `param` names the field, query parameter, path parameter or header",
        "invalid_field",
        "Invalid request body: Expected `int` >= 0.",
        "amount",
    ),
    401: ("Missing, unknown or revoked API key", "invalid_api_key", "Missing or unknown API key.", None),
    403: (
        "The key's role may not use this endpoint",
        "forbidden_for_role",
        "This endpoint needs a brand key.",
        None,
    ),
    404: ("Not found", "not_found", "No such shopper.", "customer_ref"),
    405: (
        "This path does not serve the method used; the `Allow` header lists those it does",
        "method_not_allowed",
        "Method TRACE is not allowed.",
        None,
    ),
    409: (
        "Conflict: the id exists with another body, the Idempotency-Key was used for another request or is "
        "still in progress, or the current state forbids it",
        "idempotency_key_reused",
        "This Idempotency-Key was used with a different request.",
        "Idempotency-Key",
    ),
    415: (
        "The body is not `application/json`",
        "unsupported_media_type",
        "Unsupported media type: text/plain.",
        None,
    ),
    422: (
        "Well-formed but not processable in the current state",
        "unprocessable",
        "The request cannot be processed.",
        None,
    ),
    429: (
        "Throttled by the API's rate limit; retry after `Retry-After` seconds",
        "rate_limited",
        "Too many requests; retry shortly.",
        None,
    ),
    500: (
        "Our fault, not worth a retry; the message carries the request id the logs carry",
        "internal_error",
        "An internal error occurred (request id 8d2c1f0e-5b7a-4c3e-9f61-2a4b6c8d0e1f).",
        None,
    ),
    502: (
        "Stripe failed or answered badly; nothing was written — retry after `Retry-After` seconds",
        "upstream_unavailable",
        "Stripe is unreachable; nothing was changed, retry shortly.",
        None,
    ),
    503: (
        "DynamoDB or Stripe is unreachable, throttled or too slow; nothing was written — retry after "
        "`Retry-After` seconds",
        "upstream_unavailable",
        "The database is unreachable; retry shortly.",
        None,
    ),
}
_TYPES = {401: "authentication", 403: "permission", 429: "rate_limit", 500: "internal", 502: "upstream",
          503: "upstream"}  # fmt: skip
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
_REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
# What any operation can answer, whatever the route does: bad input, wrong method or media type,
# throttling, our own failure, an unreachable dependency.
FRAME_STATUSES = (400, 405, 415, 429, 500, 502, 503)
_REF = "#/components/schemas/{name}"
CSV = "text/csv"


def error_example(status: int) -> dict[str, Any]:
    _, code, message, param = _ERRORS[status]
    kind = _TYPES.get(status, "invalid_request")
    return {"error": {"type": kind, "code": code, "message": message, "param": param}}


def _query_parameters(query: type, examples: dict[str, Any]) -> list[dict[str, Any]]:
    if query is NoQuery:
        return []
    (schema,), components = msgspec.json.schema_components([query], ref_template=_REF)
    name = schema["$ref"].rsplit("/", 1)[-1]
    body = components[name]
    required = set(body.get("required", []))
    parameters = []
    for field, prop in body.get("properties", {}).items():
        # A query parameter is absent or a string, never null: `X | None = None` is an optional X.
        options = [option for option in prop.get("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1 and prop.get("default", "") is None:
            prop = options[0]
        parameter = {"name": field, "in": "query", "required": field in required, "schema": prop}
        if field in examples:
            parameter["example"] = examples[field]
        parameters.append(parameter)
    return parameters


def statuses(spec: EndpointSpec) -> list[int]:
    """Every status the operation can answer: its success, replays, its own errors and the frame's."""
    codes = {spec.status, *spec.errors, *FRAME_STATUSES}
    if spec.idempotent:
        codes |= {200, 409}
    if spec.roles is not None:
        codes.add(401)
        if set(spec.roles) not in ({"storefront", "brand"}, {"shopper"}):
            codes.add(403)
    return sorted(codes)


def _success(spec: EndpointSpec, status: int, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    example = spec.example or Example()
    replay = spec.idempotent and status == 200 and spec.status != 200
    description = "OK"
    if replay:
        description = "A replay: the first answer to this Idempotency-Key (or natural id) and body"
    elif spec.idempotent:
        description = "OK; also the replay of the first answer to this Idempotency-Key and body"
    answer: dict[str, Any] = {"description": description}
    if spec.response is not None:
        content: dict[str, Any] = {
            spec.content_type: {"schema": refs[spec.response], "example": example.response}
        }
        if spec.csv:
            # CSV first: client generators that read one media type per answer then hand back the text,
            # which works for both forms, instead of parsing a CSV answer as JSON and failing.
            content = {CSV: {"schema": {"type": "string"}, "example": example.csv_text()}, **content}
        answer["content"] = content
    if spec.idempotent:
        answer["headers"] = _REPLAYED
    return answer


def _operation(
    spec: EndpointSpec, refs: dict[Any, dict[str, Any]], components: dict[str, Any]
) -> dict[str, Any]:
    route = spec.path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
    example = spec.example or Example()
    path_parameters = []
    for p in spec.path_params:
        parameter: dict[str, Any] = {
            "name": p, "in": "path", "required": True, "schema": {"type": "string", "pattern": ID_PATTERN},
        }  # fmt: skip
        if p in example.path:
            parameter["example"] = example.path[p]
        path_parameters.append(parameter)
    op: dict[str, Any] = {
        "operationId": f"{spec.method.lower()}_{route}",
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": path_parameters + _query_parameters(spec.query, example.query),
    }
    if spec.description:
        op["description"] = spec.description
    if spec.idempotent:
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
                "example": "2f0c8e52-checkout-ada",
                "description": "A retry with the same key, method, path and body returns the first response; "
                "the same key with anything else → 409.",
            }
        )
    if spec.body is not NoBody:
        op["requestBody"] = {
            # An empty body reads as `{}`: it may be left out when every field has a default.
            "required": bool(components[refs[spec.body]["$ref"].rsplit("/", 1)[-1]].get("required")),
            "content": {JSON: {"schema": refs[spec.body], "example": example.request}},
        }
    op["responses"] = {}
    if spec.roles is None:
        op["security"] = []
    elif spec.roles == ("shopper",):
        op["security"] = [{"shopperToken": []}]
    for code in statuses(spec):
        if code < 300:
            op["responses"][str(code)] = _success(spec, code, refs)
            continue
        answer: dict[str, Any] = {
            "description": _ERRORS[code][0],
            "content": {JSON: {"schema": refs[Error], "example": error_example(code)}},
        }
        if code in (429, 502, 503):
            answer["headers"] = _RETRY_AFTER
        op["responses"][str(code)] = answer
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
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, refs, components)
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
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer"},
                "shopperToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
        "security": [{"apiKey": []}],
        "paths": paths,
    }


@endpoint(
    openapi_api, "GET", "/v1/openapi.json", summary="This document", tag="meta", roles=PUBLIC,
    response=dict[str, Any],
    example=Example(
        response={"openapi": "3.1.0", "info": {"title": "VIP Rewards API", "version": "1.0.0"}, "paths": {}}
    ),
)  # fmt: skip
def openapi_json(call: Call[Any, Any]) -> Reply:
    return Reply(document())
