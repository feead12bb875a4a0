"""Referrals: a member's code and friends (storefront and shopper), the referrals report (brand)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, SHOPPER, STOREFRONT, Call, Example, endpoint, report_reply
from chalicelib.api.schemas import Month

if TYPE_CHECKING:
    from chalicelib.services import referrals
    from chalicelib.services.referrals import ReferralAnswer, ReferralReport, referral_csv
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first request that needs them (api/lazy.py)
    referrals = lazy.module("chalicelib.services.referrals")
    ReferralAnswer = lazy.declared("chalicelib.services.referrals", "ReferralAnswer")
    ReferralReport = lazy.declared("chalicelib.services.referrals", "ReferralReport")
    referral_csv = lazy.function("chalicelib.services.referrals", "referral_csv")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

referrals_api = Blueprint(__name__)

_ANSWER = {
    "code": "VIPK7Q2M4XA", "friend_free_months": 1, "referrer_free_months": 1,
    "friends": {"joined": 3, "rewarded": 1, "pending": 1, "withheld": 1,
                "withheld_reasons": {"returning_member": 1}},
}  # fmt: skip
_DESCRIPTION = (
    "The member's own code (a Stripe promotion code for first-time customers, created the first time it is "
    "asked for) and the friends who started a membership with it: `joined` = `rewarded` + `pending` + "
    "`withheld`, with `withheld_reasons` (`self_referral`, `returning_member`, `yearly_cap`, `refunded`, "
    "`disputed`, `referrer_not_member`). 409 `no_referral_offer` unless the member's plan has `referral`."
)


@endpoint(
    referrals_api, "GET", "/v1/members/{customer_ref}/referral", summary="A member's referral code",
    tag="referrals", roles=STOREFRONT, response=ReferralAnswer, errors=(404, 409, 502),
    example=Example(path={"customer_ref": "ada"}, response=_ANSWER), description=_DESCRIPTION,
)  # fmt: skip
def member_referral(call: Call[Any, Any]) -> ReferralAnswer:
    return referrals.referral_of(call.path["customer_ref"], on_dynamodb())


@endpoint(
    referrals_api, "GET", "/v1/shopper/referral", summary="The shopper's own referral code and friends",
    tag="shopper", roles=SHOPPER, response=ReferralAnswer, errors=(404, 409, 502),
    example=Example(response=_ANSWER), description=_DESCRIPTION,
)  # fmt: skip
def shopper_referral(call: Call[Any, Any]) -> ReferralAnswer:
    assert call.caller is not None and call.caller.role == "shopper"
    return referrals.referral_of(call.caller.name, on_dynamodb())


_MONTH = {
    "period": "2026-11", "codes_used": 4, "joined": 3, "rewarded": 1, "clawed_back": 0,
    "withheld": {"returning_member": 1}, "credit": [{"currency": "usd", "amount": 999}],
}  # fmt: skip


class ReferralReportQuery(msgspec.Struct, forbid_unknown_fields=True, rename={"first": "from", "last": "to"}):
    first: Month
    last: Month
    format: Literal["json", "csv"] = "json"


@endpoint(
    referrals_api, "GET", "/v1/reports/referrals", summary="Referrals per month", tag="reports", roles=BRAND,
    query=ReferralReportQuery, response=ReferralReport, errors=(400,), csv=True,
    example=Example(
        query={"from": "2026-11", "to": "2026-11", "format": "json"}, response={"data": [_MONTH]},
        csv=lambda: referral_csv(msgspec.convert({"data": [_MONTH]}, lazy.resolve(ReferralReport))),
    ),
    description="One row per month of `from`..`to`: `codes_used` (checkouts started with a referral code), "
    "`joined` (friends whose first invoice was paid), `rewarded`, `clawed_back` (rewards taken back: a "
    "refund or dispute made before the hold ended but delivered after the credit; each also counts in "
    "`withheld` under its reason), `withheld` per reason, and the `credit` granted to referrers per "
    "currency (customer balance credits, minor units, net of the month's claw-backs), each counted in the "
    "month it happened. `format=csv`: one column per reason and per currency.",
)  # fmt: skip
def referral_report(call: Call[Any, ReferralReportQuery]) -> Any:
    query = call.query
    report = referrals.build_referral_report(query.first, query.last)
    return report_reply(report, query.format, referral_csv, f"referrals-{query.first}-{query.last}.csv")
