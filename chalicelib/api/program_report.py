"""Program reports (brand): `GET /v1/reports/program`, members against non-members and fees against what
perks cost; `GET /v1/reports/cohorts`, shoppers by the month and plan they first paid for, followed since."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, Call, Example, endpoint, report_reply
from chalicelib.api.schemas import Month
from chalicelib.domain.money import Currency

if TYPE_CHECKING:
    from chalicelib.domain.cohorts import CohortReport, cohorts_csv
    from chalicelib.domain.program import ProgramReport, program_csv
    from chalicelib.services.cohort_report import build_cohort_report
    from chalicelib.services.program_report import build_program_report
else:  # imported by the first request that needs them (api/lazy.py)
    CohortReport = lazy.declared("chalicelib.domain.cohorts", "CohortReport")
    cohorts_csv = lazy.function("chalicelib.domain.cohorts", "cohorts_csv")
    ProgramReport = lazy.declared("chalicelib.domain.program", "ProgramReport")
    program_csv = lazy.function("chalicelib.domain.program", "program_csv")
    build_cohort_report = lazy.function("chalicelib.services.cohort_report", "build_cohort_report")
    build_program_report = lazy.function("chalicelib.services.program_report", "build_program_report")

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
        csv=lambda: program_csv(msgspec.convert(_EXAMPLE, lazy.resolve(ProgramReport))),
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
    return report_reply(report, query.format, program_csv, f"program-{query.first}-{query.last}.csv")


# docs/program.md's cohort example: two shoppers joined in September, one lapsed in October and came back in
# November; the report is read in November.
_COHORTS = {
    "data": [
        {"cohort": "2026-09", "plan_id": "vip-monthly", "currency": "usd", "joined": 2, "active": [2, 1, 2],
         "fees": 4995, "revenue": 21500},
    ]
}  # fmt: skip


class CohortReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month
    last: Month
    format: Literal["json", "csv"] = "json"


@endpoint(
    program_report_api, "GET", "/v1/reports/cohorts", summary="Cohorts by first paid month",
    tag="reports", roles=BRAND, query=CohortReportQuery, response=CohortReport, errors=(400,), csv=True,
    example=Example(
        query={"from": "2026-09", "to": "2026-11", "format": "json"}, response=_COHORTS,
        csv=lambda: cohorts_csv(msgspec.convert(_COHORTS, lazy.resolve(CohortReport))),
    ),
    description="One row per cohort × plan × currency, for the cohorts of `from`..`to`: the shoppers whose "
    "first paid membership started in month `cohort` on plan `plan_id`. `joined`: how many; `active`: how "
    "many of them had perks at the end of each month since, `active[0]` being the cohort month, up to the "
    "current month; `fees` (membership fees paid) and `revenue` (orders placed since they joined, net of "
    "refunds) in the row's `currency`. `joined` and `active` describe the cohort × plan and repeat on each "
    "of its currency rows; a cohort always has a row in its membership's currency. `format=csv`: text/csv "
    "with the same columns, `active` as its counts separated by spaces.",
)  # fmt: skip
def cohorts_report(call: Call[Any, CohortReportQuery]) -> Any:
    query = call.query
    report = build_cohort_report(query.first, query.last)
    return report_reply(report, query.format, cohorts_csv, f"cohorts-{query.first}-{query.last}.csv")
