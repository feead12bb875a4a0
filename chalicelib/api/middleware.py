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
    response = get_response(event)
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
