"""Giving transparency: impact statements (storefront and shopper), payout obligations and voids (brand),
and each cause's public giving record."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib import clock
from chalicelib.api import lazy
from chalicelib.api.routing import (
    BRAND,
    PUBLIC,
    SHOPPER,
    STOREFRONT,
    Call,
    Example,
    Reply,
    endpoint,
    report_reply,
)
from chalicelib.api.schemas import Month, check_month_range

if TYPE_CHECKING:
    from chalicelib.services import giving
    from chalicelib.services.donations import DisbursementOut
    from chalicelib.services.giving import GivingRecordOut, ImpactStatement, PayoutsReport, VoidIn
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    giving = lazy.module("chalicelib.services.giving")
    DisbursementOut = lazy.declared("chalicelib.services.donations", "DisbursementOut")
    GivingRecordOut = lazy.declared("chalicelib.services.giving", "GivingRecordOut")
    ImpactStatement = lazy.declared("chalicelib.services.giving", "ImpactStatement")
    PayoutsReport = lazy.declared("chalicelib.services.giving", "PayoutsReport")
    VoidIn = lazy.declared("chalicelib.services.giving", "VoidIn")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

giving_api = Blueprint(__name__)

Year = Annotated[int, Meta(ge=2000, le=2199, description="A calendar year (UTC); default: this year.")]


class YearQuery(msgspec.Struct, forbid_unknown_fields=True):
    year: Year | None = None


def _year(query: YearQuery) -> int:
    return query.year if query.year is not None else clock.now().astimezone(UTC).year


_STATEMENT = {
    "customer_ref": "ada",
    "year": 2026,
    "lines": [
        {"occurred_at": "2026-03-02T10:00:00Z", "kind": "pledge", "source": {"invoice_id": "in_1Q2w3E"},
         "cause_id": "school-meals", "amount": 100, "currency": "usd", "status": "disbursed"},
        {"occurred_at": "2026-03-05T09:00:00Z", "kind": "pledge", "source": {"order_id": "ord_1001"},
         "cause_id": "school-meals", "amount": 203, "currency": "usd", "status": "pledged"},
        {"occurred_at": "2026-03-09T12:00:00Z", "kind": "reversal", "source": {"order_id": "ord_1001"},
         "cause_id": "school-meals", "amount": 50, "currency": "usd", "status": "pledged"},
    ],
    "totals": [{"cause_id": "school-meals", "currency": "usd", "pledged": 303, "reversed": 50, "net": 253}],
    "disbursements": [
        {"cause_id": "school-meals", "currency": "usd", "amount": 125000, "paid_at": "2026-03-31T15:00:00Z",
         "receipt_url": "https://example.org/receipts/48213.pdf"},
    ],
}  # fmt: skip
HTML = "text/html"
_PAGE_EXAMPLE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Giving statement 2026</title>…'
)
_STATEMENT_DESCRIPTION = (
    "Every pledge and reversal of the year, oldest first, with its source (`order_id`, `invoice_id` or "
    "`gift_id`). A pledge is `disbursed` once its cause's disbursements in that currency, applied to its "
    "pledges oldest first (day by day, UTC), cover its day; a reversal shares its pledge's status. "
    "`totals` are the sums of the lines; `disbursements` the payouts (with receipts) that "
    "covered these pledges. A year "
    "without giving has no lines and no totals."
)


@endpoint(
    giving_api, "GET", "/v1/members/{customer_ref}/impact_statement", summary="A shopper's giving for a year",
    tag="giving", roles=STOREFRONT, query=YearQuery, response=ImpactStatement, errors=(400,),
    example=Example(path={"customer_ref": "ada"}, query={"year": 2026}, response=_STATEMENT),
    description=_STATEMENT_DESCRIPTION,
)  # fmt: skip
def impact_statement(call: Call[Any, YearQuery]) -> ImpactStatement:
    return giving.statement(call.path["customer_ref"], _year(call.query))


@endpoint(
    giving_api, "GET", "/v1/shopper/impact", summary="The shopper's own impact statement", tag="shopper",
    roles=SHOPPER, query=YearQuery, response=ImpactStatement, errors=(400,),
    example=Example(query={"year": 2026}, response=_STATEMENT), description=_STATEMENT_DESCRIPTION,
)  # fmt: skip
def shopper_impact(call: Call[Any, YearQuery]) -> ImpactStatement:
    assert call.caller is not None and call.caller.role == "shopper"
    return giving.statement(call.caller.name, _year(call.query))


@endpoint(
    giving_api, "GET", "/v1/shopper/impact/page", summary="The shopper's impact statement, printable",
    tag="shopper", roles=SHOPPER, query=YearQuery, response=str, content_type=HTML, errors=(400,),
    example=Example(query={"year": 2026}, response=_PAGE_EXAMPLE),
    description="The same statement as one HTML page with print CSS (the storefront kit's account element "
    "opens it): every line with its source and status, the totals, the payouts with links to their receipts.",
)  # fmt: skip
def shopper_impact_page(call: Call[Any, YearQuery]) -> Reply:
    assert call.caller is not None and call.caller.role == "shopper"
    page = giving.statement_page(call.caller.name, _year(call.query))
    return Reply(page, content_type=f"{HTML}; charset=utf-8", headers={"Cache-Control": "no-store"})


class PayoutsQuery(msgspec.Struct, forbid_unknown_fields=True):
    format: Literal["json", "csv"] = "json"


@endpoint(
    giving_api, "GET", "/v1/reports/payouts", summary="What each cause is owed and since when", tag="reports",
    roles=BRAND, query=PayoutsQuery, response=PayoutsReport, errors=(400,), csv=True,
    example=Example(
        query={"format": "json"},
        response={
            "data": [
                {"cause_id": "school-meals", "currency": "usd", "outstanding": 12095,
                 "oldest_undisbursed_at": "2026-07-14T00:00:00Z", "days_outstanding": 145, "overdue": True},
                {"cause_id": "ocean-cleanup", "currency": "usd", "outstanding": 0,
                 "oldest_undisbursed_at": None, "days_outstanding": 0, "overdue": False},
            ],
            "due_days": 90,
        },
        csv="cause_id,currency,outstanding,outstanding_decimal,oldest_undisbursed_at,days_outstanding,overdue\r\n"
        "school-meals,usd,12095,120.95,2026-07-14T00:00:00Z,145,true\r\n"
        "ocean-cleanup,usd,0,0.00,,0,false\r\n",
    ),
    description="Per cause and currency: `outstanding` (net pledged − disbursed), "
    "`oldest_undisbursed_at` (the start of the UTC day of the oldest pledge the disbursements do not cover), "
    "`days_outstanding` since then and `overdue` when that exceeds `due_days` (setting "
    "`PAYOUT_DUE_DAYS`, default 90). Overdue causes first. "
    "Its cost does not grow with orders.",
)  # fmt: skip
def payouts(call: Call[Any, PayoutsQuery]) -> Any:
    report = giving.payouts_report()
    return report_reply(report, call.query.format, giving.payouts_csv, "payouts.csv")


@endpoint(
    giving_api, "POST", "/v1/disbursements/{disbursement_id}/void", summary="Void a mistaken disbursement",
    tag="donations", roles=BRAND, body=VoidIn, response=DisbursementOut, errors=(400, 404, 409),
    example=Example(
        path={"disbursement_id": "disb_2026_11_school_meals"},
        request={"reason": "Recorded twice; the wire was sent once."},
        response={
            "disbursement_id": "disb_2026_11_school_meals", "cause_id": "school-meals", "currency": "usd",
            "amount": 125000, "paid_at": "2026-11-20T15:00:00Z", "reference": "Wire 2026-11-20 #48213",
            "receipt_url": "https://example.org/receipts/48213.pdf", "recorded_at": "2026-11-23T09:00:00Z",
            "status": "voided", "voided_at": "2026-11-24T10:00:00Z",
            "void_reason": "Recorded twice; the wire was sent once.",
        },
    ),
    description="Corrects, never edits: appends a reversing entry "
    "(in the disbursement's month) that gives the amount back to the cause's outstanding "
    "balance; the disbursement then lists with `status: voided`. "
    "A second void → 409 `disbursement_voided`; an unknown id → 404.",
)  # fmt: skip
def void(call: Call[VoidIn, Any]) -> DisbursementOut:
    return giving.void_disbursement(call.path["disbursement_id"], call.body.reason, on_dynamodb())


class GivingQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month | None = None
    last: Month | None = None


@endpoint(
    giving_api, "GET", "/v1/causes/{cause_id}/giving", summary="A cause's public giving record", tag="giving",
    roles=PUBLIC, query=GivingQuery, response=GivingRecordOut, errors=(400, 404),
    example=Example(
        path={"cause_id": "school-meals"}, query={"from": "2026-10", "to": "2026-11"},
        response={
            "cause_id": "school-meals", "name": "School Meals", "legal_name": "School Meals Foundation",
            "months": [
                {"period": "2026-10", "currency": "usd", "pledged_net": 96980, "disbursed": 0},
                {"period": "2026-11", "currency": "usd", "pledged_net": 40115, "disbursed": 125000},
            ],
            "disbursements": [
                {"amount": 125000, "currency": "usd", "paid_at": "2026-11-20T15:00:00Z",
                 "receipt_url": "https://example.org/receipts/48213.pdf"},
            ],
        },
    ),
    description="Per month (`from`..`to`, default the last 12 months): what members' purchases "
    "pledged to the cause (net of refunds) and what was paid to it (voided payments left out), "
    "with each payment's receipt. "
    "No shopper data; its cost does not grow with orders.",
)  # fmt: skip
def giving_record(call: Call[Any, GivingQuery]) -> GivingRecordOut:
    now = clock.now().astimezone(UTC)
    last = call.query.last or now.strftime("%Y-%m")
    first = call.query.first or max(_months_before(last, 11), "2000-01")
    check_month_range(first, last)
    return giving.giving_record(call.path["cause_id"], first, last)


def _months_before(month: str, count: int) -> str:
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
