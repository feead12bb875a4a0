"""Memberships report (brand): members per plan and status, MRR, joins and cancellations per month."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, Call, Example, endpoint, report_reply
from chalicelib.api.schemas import Month

if TYPE_CHECKING:
    from chalicelib.domain.membership_report import MembershipReport, membership_csv
    from chalicelib.services.membership_report import build_membership_report
else:  # imported by the first request that needs them (api/lazy.py)
    MembershipReport = lazy.declared("chalicelib.domain.membership_report", "MembershipReport")
    membership_csv = lazy.function("chalicelib.domain.membership_report", "membership_csv")
    build_membership_report = lazy.function(
        "chalicelib.services.membership_report", "build_membership_report"
    )

membership_report_api = Blueprint(__name__)


class MembershipReportQuery(
    msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}
):
    first: Month | None = None
    last: Month | None = None
    format: Literal["json", "csv"] = "json"


_EXAMPLE = {
    "members": [
        {"plan_id": "vip-monthly", "status": "active", "members": 120, "perks_active": 120},
        {"plan_id": "vip-monthly", "status": "past_due", "members": 4, "perks_active": 3},
        {"plan_id": "vip-yearly", "status": "trialing", "members": 9, "perks_active": 9},
    ],
    "mrr": [{"currency": "usd", "mrr": 122857, "mrr_decimal": "1228.57", "paying_members": 123}],
    "months": [
        {"period": "2026-10", "joins": 31, "cancellations": 6},
        {"period": "2026-11", "joins": 27, "cancellations": 4},
    ],
}


@endpoint(
    membership_report_api, "GET", "/v1/reports/memberships", summary="Members, MRR, joins and cancellations",
    tag="reports", roles=BRAND, query=MembershipReportQuery, response=MembershipReport, errors=(400,),
    csv=True,
    example=Example(
        query={"from": "2026-10", "to": "2026-11", "format": "json"}, response=_EXAMPLE,
        csv=lambda: membership_csv(msgspec.convert(_EXAMPLE, lazy.resolve(MembershipReport))),
    ),
    description="`members`: every shopper once, by the subscription their membership follows, per plan and "
    "Stripe status, with how many have perks now. `mrr`: per currency, what `active` and in-grace "
    "`past_due` members pay at each subscription's own price (trials excluded, yearly / 12, rounded half up "
    "once per currency). `months` (`from`..`to`, "
    "YYYY-MM, default the 12 months ending now): subscriptions started (trial or paid) and ended. "
    "`format=csv`: the three lists in one table, a `section` column saying which.",
)  # fmt: skip
def membership_report(call: Call[Any, MembershipReportQuery]) -> Any:
    report = build_membership_report(call.query.first, call.query.last)
    return report_reply(report, call.query.format, membership_csv, "memberships.csv")
