"""The error types every layer raises, and the one function that turns them into the error body.

Every non-2xx answer of the API has the body
`{"error": {"type": ..., "code": ..., "message": ..., "param": ...}}` (SPEC.md, Conventions).
Services raise these; `api/` maps them to HTTP through `error_body` and `status`.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """Base of every error a client can see. Subclasses fix the HTTP status and error type."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal"
    default_code: ClassVar[str] = "internal_error"
    # Seconds a client should wait before retrying (`Retry-After`); None: retrying will not help.
    retry_after: ClassVar[int | None] = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code


class ValidationError(ApiError):
    status = 400
    type = "invalid_request"
    default_code = "invalid_field"


class NotFoundError(ApiError):
    status = 404
    type = "invalid_request"
    default_code = "not_found"


class MethodNotAllowedError(ApiError):
    status = 405
    type = "invalid_request"
    default_code = "method_not_allowed"


class ConflictError(ApiError):
    status = 409
    type = "invalid_request"
    default_code = "conflict"


class UnsupportedMediaTypeError(ApiError):
    status = 415
    type = "invalid_request"
    default_code = "unsupported_media_type"


class UnprocessableError(ApiError):
    status = 422
    type = "invalid_request"
    default_code = "unprocessable"


class AuthenticationError(ApiError):
    status = 401
    type = "authentication"
    default_code = "invalid_api_key"


class PermissionDeniedError(ApiError):
    status = 403
    type = "permission"
    default_code = "forbidden_for_role"


class RateLimitError(ApiError):
    status = 429
    type = "rate_limit"
    default_code = "rate_limited"


class UpstreamError(ApiError):
    """A dependency (Stripe) failed or is unreachable; nothing was written. Worth a retry."""

    status = 502
    type = "upstream"
    default_code = "upstream_unavailable"
    retry_after = 2


class ServiceUnavailableError(UpstreamError):
    """DynamoDB throttled, unreachable or too slow, or a write lost too many races. Worth a retry."""

    status = 503
    retry_after = 1


class InternalError(ApiError):
    """Our fault (a bug, a misconfiguration, a request DynamoDB refuses for good): not worth a retry."""

    status = 500
    type = "internal"
    default_code = "internal_error"


def error_body(error: ApiError) -> dict[str, Any]:
    """The one place that builds the error body of SPEC.md."""
    return {"error": {"type": error.type, "code": error.code, "message": error.message, "param": error.param}}
