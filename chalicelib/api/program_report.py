"""`GET /v1/reports/program` (brand): members against non-members, fees against what perks cost."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api.routing import BRAND, Call, Reply, endpoint
from chalicelib.domain.membership_report import MONTH_PATTERN
from chalicelib.domain.money import Currency
from chalicelib.domain.program import ProgramReport, program_csv
from chalicelib.services.program_report import build_program_report

program_report_api = Blueprint(__name__)

Month = Annotated[str, Meta(pattern=MONTH_PATTERN.pattern, description="A month, YYYY-MM (UTC).")]


class ProgramReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month
    last: Month
    currency: Currency | None = None
    format: Literal["json", "csv"] = "json"


@endpoint(
    program_report_api, "GET", "/v1/reports/program", summary="The program against non-members, per month",
    tag="reports", roles=BRAND, query=ProgramReportQuery, response=ProgramReport, errors=(400,),
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
