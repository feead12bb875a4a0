"""`GET /v1/reports/program` (brand): members against non-members, fees against what perks cost."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib.api.routing import BRAND, Call, Example, Reply, endpoint
from chalicelib.api.schemas import Month
from chalicelib.domain.money import Currency
from chalicelib.domain.program import ProgramReport, program_csv
from chalicelib.services.program_report import build_program_report

program_report_api = Blueprint(__name__)

# docs/program.md's worked example: one month, one member and two guests.
_ROW = {
    "period": "2026-10", "currency": "usd",
    "members": {"customers": 1, "orders": 2, "revenue": 12500, "aov": 6250, "orders_per_customer": "2.0000",
                "returning_customers": 1, "returning_rate": "1.0000"},
    "non_members": {"customers": 2, "orders": 3, "revenue": 14000, "aov": 4667,
                    "orders_per_customer": "1.5000", "returning_customers": 1, "returning_rate": "0.5000"},
    "lift": {"aov": "1.3393", "orders_per_customer": "1.3333", "returning_rate": "2.0000"},
    "fees": 0, "member_discount": 1250, "shipping_waived": 446, "donations": 250, "program_net": -1946,
}  # fmt: skip
_EXAMPLE = {"data": [_ROW], "totals": [{**_ROW, "period": "2026-10..2026-10"}]}


class ProgramReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month
    last: Month
    currency: Currency | None = None
    format: Literal["json", "csv"] = "json"


@endpoint(
    program_report_api, "GET", "/v1/reports/program", summary="The program against non-members, per month",
    tag="reports", roles=BRAND, query=ProgramReportQuery, response=ProgramReport, errors=(400,), csv=True,
    example=Example(
        query={"from": "2026-10", "to": "2026-10", "format": "json"}, response=_EXAMPLE,
        csv=program_csv(msgspec.convert(_EXAMPLE, ProgramReport)),
    ),
    description="One row per month × currency (`from`..`to`, every month, for each currency with activity): "
    "members' and non-members' customers, orders, revenue net of refunds, AOV, orders per customer and "
    "returning customers; lift = members ÷ non-members (4-decimal strings, null on a zero divisor); fees, "
    "member discounts, shipping waived, net donations and `program_net` = fees − discounts − shipping − "
    "donations. `totals`: per currency over the range, each shopper counted once. `format=csv`: text/csv "
    "with the same figures flattened (`members_aov`, `lift_aov` ...), data rows then totals rows.",
)  # fmt: skip
def program_report(call: Call[Any, ProgramReportQuery]) -> Any:
    query = call.query
    report = build_program_report(query.first, query.last, query.currency)
    if query.format == "csv":
        filename = f"program-{query.first}-{query.last}.csv"
        return Reply(
            program_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report
