"""Request and response shapes shared by several areas (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.domain.catalog import Cause, ClientId, Plan
from chalicelib.domain.membership_report import MONTH_PATTERN

Limit = Annotated[int, Meta(ge=1, le=100, description="Page size, 1–100.")]
Month = Annotated[str, Meta(pattern=MONTH_PATTERN.pattern, description="A month, YYYY-MM (UTC).")]


class ListQuery(msgspec.Struct, forbid_unknown_fields=True):
    limit: Limit = 20
    starting_after: ClientId | None = None


class ErrorDetail(msgspec.Struct):
    type: Literal["invalid_request", "authentication", "permission", "rate_limit", "upstream", "internal"]
    code: str
    message: str
    param: str | None


class Error(msgspec.Struct):
    error: ErrorDetail


class PlanList(msgspec.Struct):
    data: list[Plan]
    has_more: bool


class CauseList(msgspec.Struct):
    data: list[Cause]
    has_more: bool


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["storefront", "brand"]
    name: Annotated[str, Meta(min_length=1, max_length=200)]


class ApiKeyOut(msgspec.Struct):
    key_id: str
    role: str
    name: str
    secret: str | None = None


def page(items: list[msgspec.Struct], key: str, query: ListQuery) -> tuple[list[msgspec.Struct], bool]:
    """Cursor pagination over items sorted by `key`: the page after `starting_after`, and has_more."""
    ordered = sorted(items, key=lambda item: getattr(item, key))
    if query.starting_after is not None:
        ordered = [item for item in ordered if getattr(item, key) > query.starting_after]
    return ordered[: query.limit], len(ordered) > query.limit
