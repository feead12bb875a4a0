"""Stripe's error shape: `{"error": {"type", "code", "message", "param", "doc_url"}}` with an HTTP status."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


class StripeError(Exception):
    """An error Stripe would answer, with its HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.code, self.param, self.message = status, type, code, param, message

    def body(self) -> Obj:
        error: Obj = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param)
