"""Answers for what no route matches, in the error shape of the contract.

Chalice has no greedy path parameter, so unknown paths are caught by catch-all routes up to a
depth deeper than any real route; concrete routes always win (they sort first in Chalice's
matcher, and API Gateway prefers static segments). They are not part of the contract.
A known path asked with another method never gets here: Chalice answers 405 (see middleware).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from chalice.app import Blueprint, Response

from chalicelib.api.routing import render_error, request_id_of
from chalicelib.errors import NotFoundError

fallback_api = Blueprint(__name__)

MAX_DEPTH = 7
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FALLBACK_PATHS = ["/" + "/".join(f"{{_p{i}}}" for i in range(depth)) for depth in range(1, MAX_DEPTH + 1)]


def requested_path(segments: dict[str, str]) -> str:
    """The path as the client sent it (the route template here is `/{_p0}/{_p1}/...`)."""
    return "/" + "/".join(unquote(segments[f"_p{i}"]) for i in range(len(segments)))


def _not_found(**segments: Any) -> Response:
    request = fallback_api.current_request
    path = requested_path(segments)
    response = render_error(
        NotFoundError(f"No such endpoint: {request.method} {path}.", code="route_not_found")
    )
    # Every answer carries its request id (docs/api.md), this one too.
    request_id = request_id_of(fallback_api)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


for _path in FALLBACK_PATHS:
    fallback_api.route(_path, methods=METHODS, name=f"not_found_{_path.count('/')}")(_not_found)
