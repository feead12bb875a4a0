"""Rewrites Chalice's own error answers (405, 415, unhandled 500) into the contract's error shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.api.routing import render_error
from chalicelib.errors import (
    ApiError,
    InternalError,
    MethodNotAllowedError,
    UnsupportedMediaTypeError,
    ValidationError,
)

_CHALICE_CODES: dict[str, type[ApiError]] = {
    "MethodNotAllowedError": MethodNotAllowedError,
    "UnsupportedMediaType": UnsupportedMediaTypeError,
    "BadRequestError": ValidationError,
    "BadRequest": ValidationError,
}


def error_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    response = _shaped(event, get_response(event))
    # Every answer carries its request id (docs/api.md), Chalice's own 405 and 415 too.
    if not any(name.lower() == "x-request-id" for name in response.headers):
        request_id = (event.context or {}).get("requestId") or getattr(
            getattr(event, "lambda_context", None), "aws_request_id", None
        )
        if request_id:
            response.headers["X-Request-Id"] = str(request_id)
    return response


def _shaped(event: Any, response: Response) -> Response:
    body = response.body
    if isinstance(body, str) and body.startswith("{") and '"Code"' in body:
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}:
        error_type = _CHALICE_CODES.get(str(body["Code"]), InternalError)
        message = str(body["Message"]) if error_type is not InternalError else "An internal error occurred."
        error = render_error(error_type(message))
        error.headers.update({k: v for k, v in response.headers.items() if k.lower() == "allow"})
        return error
    return response
