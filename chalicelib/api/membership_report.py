"""Memberships report (brand): members per plan and status, MRR, joins and cancellations per month."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api.routing import BRAND, Call, endpoint
from chalicelib.domain.membership_report import MONTH_PATTERN, MembershipReport
from chalicelib.services.membership_report import build_membership_report

membership_report_api = Blueprint(__name__)

Month = Annotated[str, Meta(pattern=MONTH_PATTERN.pattern, description="A month, YYYY-MM (UTC).")]


class MembershipReportQuery(
    msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}
):
    first: Month | None = None
    last: Month | None = None


@endpoint(
    membership_report_api, "GET", "/v1/reports/memberships", summary="Members, MRR, joins and cancellations",
    tag="reports", roles=BRAND, query=MembershipReportQuery, response=MembershipReport, errors=(400,),
    description="`members`: every shopper once, by the subscription their membership follows, per plan and "
    "Stripe status, with how many have perks now. `mrr`: per currency, plan prices of `active` and in-grace "
    "`past_due` members (yearly plans / 12, rounded half up once per currency). `months` (`from`..`to`, "
    "YYYY-MM, default the 12 months ending now): subscriptions started (trial or paid) and ended.",
)  # fmt: skip
def membership_report(call: Call[Any, MembershipReportQuery]) -> MembershipReport:
    return build_membership_report(call.query.first, call.query.last)
