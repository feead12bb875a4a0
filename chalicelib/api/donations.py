"""Orders and refunds (storefront), disbursements and donation reports (brand)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib import clock
from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, STOREFRONT, Call, Example, Reply, endpoint, report_reply
from chalicelib.api.schemas import ListQuery, Month
from chalicelib.domain.catalog import ClientId
from chalicelib.domain.money import Currency

if TYPE_CHECKING:
    from chalicelib.domain.facts import check_fact_time
    from chalicelib.domain.reports import DonationReport, report_csv
    from chalicelib.services import donations, giving, reports
    from chalicelib.services.donations import (
        DisbursementIn,
        DisbursementList,
        DisbursementOut,
        OrderIn,
        OrderOut,
        RefundIn,
        RefundOut,
    )
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    check_fact_time = lazy.function("chalicelib.domain.facts", "check_fact_time")
    DonationReport = lazy.declared("chalicelib.domain.reports", "DonationReport")
    report_csv = lazy.function("chalicelib.domain.reports", "report_csv")
    donations = lazy.module("chalicelib.services.donations")
    giving = lazy.module("chalicelib.services.giving")
    reports = lazy.module("chalicelib.services.reports")
    DisbursementIn = lazy.declared("chalicelib.services.donations", "DisbursementIn")
    DisbursementList = lazy.declared("chalicelib.services.donations", "DisbursementList")
    DisbursementOut = lazy.declared("chalicelib.services.donations", "DisbursementOut")
    OrderIn = lazy.declared("chalicelib.services.donations", "OrderIn")
    OrderOut = lazy.declared("chalicelib.services.donations", "OrderOut")
    RefundIn = lazy.declared("chalicelib.services.donations", "RefundIn")
    RefundOut = lazy.declared("chalicelib.services.donations", "RefundOut")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

donations_api = Blueprint(__name__)

_DISBURSEMENT = {
    "disbursement_id": "disb_2026_11_school_meals",
    "cause_id": "school-meals",
    "currency": "usd",
    "amount": 125000,
    "paid_at": "2026-11-20T15:00:00Z",
    "reference": "Wire 2026-11-20 #48213",
    "receipt_url": "https://example.org/receipts/48213.pdf",
}


@endpoint(
    donations_api, "POST", "/v1/orders", summary="Report a placed order (members' orders pledge)",
    tag="donations", roles=STOREFRONT, body=OrderIn, response=OrderOut, status=201, errors=(400, 409),
    example=Example(
        request={
            "order_id": "ord_1001", "customer_ref": "ada", "currency": "usd", "amount": 20300,
            "placed_at": "2026-11-23T09:00:00Z", "savings": {"member_discount": 1700, "shipping": 695},
        },
        response={
            "order_id": "ord_1001", "customer_ref": "ada", "currency": "usd", "amount": 20300, "member": True,
            "donation": {"amount": 203, "currency": "usd", "cause_id": "school-meals"},
            "savings": {"member_discount": 1700, "shipping": 695},
        },
    ),
    description="201 when recorded; the same `order_id` and body again → 200 with the same answer; "
    "another body → 409 `order_exists`. `placed_at` lies between 2000-01-01 and one day from now (else 400 "
    "`time_out_of_range`). `savings` are what the member's plan can give (else 400 `savings_exceed_plan` "
    "naming the field): `member_discount` ≤ round half up(percent × (amount + member_discount) / 100), "
    "`shipping` only with the plan's free shipping for that currency and order size, and `amount` plus the "
    "savings at most 100,000,000.00.",
)  # fmt: skip
def report_order(call: Call[OrderIn, Any]) -> Reply:
    check_fact_time("placed_at", call.body.placed_at, clock.now())
    answer, created = donations.record_order(call.body, on_dynamodb())
    return Reply(answer, 201 if created else 200)


@endpoint(
    donations_api, "POST", "/v1/orders/{order_id}/refunds", summary="Report a refund",
    tag="donations", roles=STOREFRONT, body=RefundIn, response=RefundOut, status=201, errors=(400, 404, 409),
    example=Example(
        path={"order_id": "ord_1001"},
        request={"refund_id": "ref_1001_1", "amount": 5000},
        response={"refund_id": "ref_1001_1", "order_id": "ord_1001", "amount": 5000, "donation_reversed": 50},
    ),
    description="Refunds may be partial and many; their total may not exceed the order amount (400). "
    "After each, total reversed = round half up(donation × total refunded / order amount).",
)  # fmt: skip
def report_refund(call: Call[RefundIn, Any]) -> Reply:
    answer, created = donations.record_refund(call.path["order_id"], call.body, on_dynamodb())
    return Reply(answer, 201 if created else 200)


@endpoint(
    donations_api, "POST", "/v1/disbursements", summary="Record a donation paid to a cause", tag="donations",
    roles=BRAND, body=DisbursementIn, response=DisbursementOut, status=201, errors=(400, 409),
    example=Example(request=_DISBURSEMENT, response={**_DISBURSEMENT, "recorded_at": "2026-11-23T09:00:00Z"}),
    description="May not exceed the cause's outstanding balance in that currency "
    "(409 `exceeds_outstanding`, its message in major units with the cause's name: `999.99 USD exceeds the "
    "120.00 USD outstanding for Ocean Cleanup (ocean-cleanup).`, then the figures in minor units). "
    "`paid_at` lies between 2000-01-01 and one day from now (else 400 `time_out_of_range`).",
)  # fmt: skip
def disburse(call: Call[DisbursementIn, Any]) -> Reply:
    check_fact_time("paid_at", call.body.paid_at, clock.now())
    answer, created = donations.record_disbursement(call.body, on_dynamodb())
    return Reply(answer, 201 if created else 200)


class DisbursementQuery(ListQuery, forbid_unknown_fields=True):
    cause_id: ClientId | None = None
    currency: Currency | None = None


@endpoint(
    donations_api, "GET", "/v1/disbursements", summary="List disbursements, newest first", tag="donations",
    roles=BRAND, query=DisbursementQuery, response=DisbursementList, errors=(400,),
    description="Newest first (by the time they were recorded), voided ones with `status: voided`, "
    "`voided_at` and `void_reason`. `cause_id` and `currency` narrow the list; "
    "`starting_after` is the last `disbursement_id` of the previous page (400 if no such disbursement).",
    example=Example(
        query={"limit": 20, "cause_id": "school-meals", "currency": "usd"},
        response={"data": [{**_DISBURSEMENT, "recorded_at": "2026-11-23T09:00:00Z"}], "has_more": False},
    ),
)  # fmt: skip
def disbursements(call: Call[Any, DisbursementQuery]) -> DisbursementList:
    query = call.query
    data, has_more = donations.list_disbursements(
        query.limit, query.starting_after, query.cause_id, query.currency
    )
    return DisbursementList(data=giving.with_voids(data), has_more=has_more)


class ReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month
    last: Month
    cause_id: ClientId | None = None
    currency: Currency | None = None
    format: Literal["json", "csv"] = "json"


@endpoint(
    donations_api, "GET", "/v1/reports/donations", summary="Donations per month, cause and currency",
    tag="reports", roles=BRAND, query=ReportQuery, response=DonationReport, errors=(400,), csv=True,
    example=Example(
        query={"from": "2026-10", "to": "2026-11", "format": "json"},
        response={
            "data": [
                {"period": "2026-10", "cause_id": "school-meals", "currency": "usd", "pledged": 98210,
                 "reversed": 1230, "net": 96980, "disbursed": 0, "orders": 412},
                {"period": "2026-11", "cause_id": "school-meals", "currency": "usd", "pledged": 40115,
                 "reversed": 0, "net": 40115, "disbursed": 125000, "orders": 170},
            ],
            "totals": [
                {"cause_id": "school-meals", "currency": "usd", "net": 137095, "disbursed": 125000,
                 "outstanding": 12095},
            ],
        },
        csv="period,cause_id,currency,pledged,reversed,net,disbursed,orders,pledged_decimal,reversed_decimal,"
        "net_decimal,disbursed_decimal\r\n"
        "2026-10,school-meals,usd,98210,1230,96980,0,412,982.10,12.30,969.80,0.00\r\n"
        "2026-11,school-meals,usd,40115,0,40115,125000,170,401.15,0.00,401.15,1250.00\r\n",
    ),
    description="`from`/`to` are months (YYYY-MM). `format=csv` returns text/csv (RFC 4180) with the same "
    "columns plus decimal amounts.",
)  # fmt: skip
def donation_report(call: Call[Any, ReportQuery]) -> Any:
    query = call.query
    report = reports.donation_report(query.first, query.last, query.cause_id, query.currency)
    filename = f"donations-{query.first}-{query.last}.csv"
    return report_reply(report, query.format, lambda r: report_csv(r.data), filename)
