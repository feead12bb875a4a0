"""Answers for what no route matches, in the error shape of the contract.

Chalice has no greedy path parameter, so unknown paths are caught by catch-all routes up to a
depth deeper than any real route; concrete routes always win (they sort first in Chalice's
matcher, and API Gateway prefers static segments). They are not part of the contract.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.routing import render_error
from chalicelib.errors import NotFoundError

fallback_api = Blueprint(__name__)

MAX_DEPTH = 7
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FALLBACK_PATHS = ["/" + "/".join(f"{{_p{i}}}" for i in range(depth)) for depth in range(1, MAX_DEPTH + 1)]


def _not_found(**_: Any) -> Response:
    request = fallback_api.current_request
    return render_error(
        NotFoundError(f"No such endpoint: {request.method} {request.path}.", code="route_not_found")
    )


for _path in FALLBACK_PATHS:
    fallback_api.route(_path, methods=METHODS, name=f"not_found_{_path.count('/')}")(_not_found)
