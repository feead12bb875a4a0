"""Orders and refunds (storefront), disbursements and donation reports (brand)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib.api.routing import BRAND, STOREFRONT, Call, Reply, endpoint
from chalicelib.api.schemas import ListQuery
from chalicelib.domain.catalog import ClientId
from chalicelib.domain.money import Currency
from chalicelib.domain.reports import DonationReport, report_csv
from chalicelib.services import donations, reports
from chalicelib.services.donations import (
    DisbursementIn,
    DisbursementOut,
    OrderIn,
    OrderOut,
    RefundIn,
    RefundOut,
)

donations_api = Blueprint(__name__)


@endpoint(
    donations_api, "POST", "/v1/orders", summary="Report a placed order (members' orders pledge)",
    tag="donations", roles=STOREFRONT, body=OrderIn, response=OrderOut, status=201, errors=(400, 409),
    description="201 when recorded; the same `order_id` and body again → 200 with the same answer; "
    "another body → 409 `order_exists`.",
)  # fmt: skip
def report_order(call: Call[OrderIn, Any]) -> Reply:
    answer, created = donations.record_order(call.body)
    return Reply(answer, 201 if created else 200)


@endpoint(
    donations_api, "POST", "/v1/orders/{order_id}/refunds", summary="Report a refund",
    tag="donations", roles=STOREFRONT, body=RefundIn, response=RefundOut, status=201, errors=(400, 404, 409),
    description="Refunds may be partial and many; their total may not exceed the order amount (400). "
    "After each, total reversed = round half up(donation × total refunded / order amount).",
)  # fmt: skip
def report_refund(call: Call[RefundIn, Any]) -> Reply:
    answer, created = donations.record_refund(call.path["order_id"], call.body)
    return Reply(answer, 201 if created else 200)


@endpoint(
    donations_api, "POST", "/v1/disbursements", summary="Record a donation paid to a cause", tag="donations",
    roles=BRAND, body=DisbursementIn, response=DisbursementOut, status=201, errors=(400, 409),
    description="May not exceed the cause's outstanding balance in that currency "
    "(409 `exceeds_outstanding`).",
)  # fmt: skip
def disburse(call: Call[DisbursementIn, Any]) -> Reply:
    answer, created = donations.record_disbursement(call.body)
    return Reply(answer, 201 if created else 200)


class DisbursementList(msgspec.Struct):
    data: list[DisbursementOut]
    has_more: bool


@endpoint(
    donations_api, "GET", "/v1/disbursements", summary="List disbursements", tag="donations", roles=BRAND,
    query=ListQuery, response=DisbursementList,
)  # fmt: skip
def disbursements(call: Call[Any, ListQuery]) -> DisbursementList:
    data, has_more = donations.list_disbursements(call.query.limit, call.query.starting_after)
    return DisbursementList(data=data, has_more=has_more)


class ReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: str
    last: str
    cause_id: ClientId | None = None
    currency: Currency | None = None
    format: Literal["json", "csv"] = "json"


@endpoint(
    donations_api, "GET", "/v1/reports/donations", summary="Donations per month, cause and currency",
    tag="reports", roles=BRAND, query=ReportQuery, response=DonationReport, errors=(400,),
    description="`from`/`to` are months (YYYY-MM). `format=csv` returns text/csv (RFC 4180) with the same "
    "columns plus decimal amounts.",
)  # fmt: skip
def donation_report(call: Call[Any, ReportQuery]) -> Any:
    query = call.query
    report = reports.donation_report(query.first, query.last, query.cause_id, query.currency)
    if query.format == "csv":
        filename = f"donations-{query.first}-{query.last}.csv"
        return Reply(
            report_csv(report.data),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report
