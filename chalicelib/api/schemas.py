"""Request and response shapes shared by several areas (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.domain.catalog import Cause, ClientId, Plan
from chalicelib.domain.patterns import whole
from chalicelib.errors import ValidationError

Limit = Annotated[int, Meta(ge=1, le=100, description="Page size, 1–100.")]
# SPEC: a month lies between 2000-01 and 2199-12 (a year-1 month would sort before every real one).
MONTH_PATTERN = whole("(20[0-9]{2}|21[0-9]{2})-(0[1-9]|1[0-2])")
Month = Annotated[str, Meta(pattern=MONTH_PATTERN, description="A month, YYYY-MM (UTC), 2000-01 to 2199-12.")]
# SPEC: every report's range is at most this many months, with `from` ≤ `to`.
MAX_REPORT_MONTHS = 120


def check_month_range(first: str, last: str) -> None:
    """`from` ≤ `to` and at most `MAX_REPORT_MONTHS` months from one to the other (else 400 naming it)."""
    if first > last:
        raise ValidationError("`from` is after `to`.", param="from", code="invalid_month_range")
    months = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1
    if months > MAX_REPORT_MONTHS:
        raise ValidationError(
            f"At most {MAX_REPORT_MONTHS} months per report; `from`..`to` spans {months}.",
            param="to", code="invalid_month_range",
        )  # fmt: skip


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
