"""Plans and causes: public reads, brand writes."""

from __future__ import annotations

from typing import Any

import msgspec
from chalice.app import Blueprint

from chalicelib.api.routing import BRAND, PUBLIC, Call, Example, endpoint
from chalicelib.api.schemas import CauseList, ListQuery, PlanList, page
from chalicelib.domain.catalog import Cause, CauseTerms, Plan, PlanTerms
from chalicelib.services import catalog

catalog_api = Blueprint(__name__)

_PLAN_TERMS = {
    "name": "VIP Monthly",
    "amount": 999,
    "currency": "usd",
    "interval": "month",
    "active": True,
    "trial_days": 0,
    "perks": {
        "free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
        "member_discount": {"percent": 10},
        "early_access": {"hours": 48},
    },
    "donation": {"order_bps": 100, "renewal_bps": 500},
}
_PLAN = {
    "plan_id": "vip-monthly",
    **_PLAN_TERMS,
    "stripe_product_id": "prod_TQ2lY8oWb3kG1s",
    "stripe_price_id": "price_1SVaJ2LkdIwHu7ix",
}
_CAUSE_TERMS = {
    "name": "School Meals",
    "description": "Hot lunches for school children.",
    "url": "https://example.org/school-meals",
    "active": True,
    "impact": {"unit": "meals", "amount_per_unit": 250},
}
_CAUSE = {"cause_id": "school-meals", **_CAUSE_TERMS}


@endpoint(
    catalog_api, "GET", "/v1/plans", summary="List plans", tag="catalog", roles=PUBLIC,
    query=ListQuery, response=PlanList,
    example=Example(query={"limit": 20}, response={"data": [_PLAN], "has_more": False}),
)  # fmt: skip
def list_plans(call: Call[Any, ListQuery]) -> PlanList:
    data, has_more = page(list(catalog.plans().values()), "plan_id", call.query)
    return PlanList(data=data, has_more=has_more)  # type: ignore[arg-type]


@endpoint(
    catalog_api, "PUT", "/v1/plans/{plan_id}", summary="Create or update a plan (syncs its Stripe Price)",
    tag="catalog", roles=BRAND, body=PlanTerms, response=Plan, errors=(400, 502),
    description="`perks.free_shipping.min_subtotal` is per currency: `{}` means no minimum in any currency; "
    "otherwise a cart in a currency absent from it gets no free shipping. `methods: null`: every method.",
    example=Example(path={"plan_id": "vip-monthly"}, request=_PLAN_TERMS, response=_PLAN),
)  # fmt: skip
def put_plan(call: Call[PlanTerms, Any]) -> Plan:
    return catalog.put_plan(call.path["plan_id"], call.body)


@endpoint(
    catalog_api, "GET", "/v1/causes", summary="List causes", tag="catalog", roles=PUBLIC,
    query=ListQuery, response=CauseList,
    example=Example(query={"limit": 20}, response={"data": [_CAUSE], "has_more": False}),
)  # fmt: skip
def list_causes(call: Call[Any, ListQuery]) -> CauseList:
    data, has_more = page(list(catalog.causes().values()), "cause_id", call.query)
    return CauseList(data=data, has_more=has_more)  # type: ignore[arg-type]


@endpoint(
    catalog_api, "PUT", "/v1/causes/{cause_id}", summary="Create or update a cause", tag="catalog",
    roles=BRAND, body=CauseTerms, response=Cause, errors=(400,),
    example=Example(path={"cause_id": "school-meals"}, request=_CAUSE_TERMS, response=_CAUSE),
)  # fmt: skip
def put_cause(call: Call[CauseTerms, Any]) -> Cause:
    return catalog.put_cause(call.path["cause_id"], call.body)


def _patch_of(terms: type[msgspec.Struct], name: str) -> Any:
    """A body type with every field of `terms` optional (absent: unchanged), validated as `terms` is."""
    fields = [(f.name, f.type | msgspec.UnsetType, msgspec.UNSET) for f in msgspec.structs.fields(terms)]
    return msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True)


PlanPatch = _patch_of(PlanTerms, "PlanPatch")
CausePatch = _patch_of(CauseTerms, "CausePatch")


@endpoint(
    catalog_api, "PATCH", "/v1/plans/{plan_id}", summary="Change some fields of a plan", tag="catalog",
    roles=BRAND, body=PlanPatch, response=Plan, errors=(400, 404, 502),
    description="Only the fields sent change (a nested object sent is replaced whole); the plan as merged is "
    "checked as `PUT` checks it and its Stripe Price follows a new amount.",
    example=Example(path={"plan_id": "vip-monthly"}, request={"active": True}, response=_PLAN),
)  # fmt: skip
def patch_plan(call: Call[Any, Any]) -> Plan:
    return catalog.patch_plan(call.path["plan_id"], msgspec.to_builtins(call.body))


@endpoint(
    catalog_api, "PATCH", "/v1/causes/{cause_id}", summary="Change some fields of a cause", tag="catalog",
    roles=BRAND, body=CausePatch, response=Cause, errors=(400, 404),
    description="Only the fields sent change. An inactive cause (`active: false`) takes no new pledges: its "
    "members pledge to the default cause and their membership shows `cause_active: false`.",
    example=Example(path={"cause_id": "school-meals"}, request={"active": True}, response=_CAUSE),
)  # fmt: skip
def patch_cause(call: Call[Any, Any]) -> Cause:
    return catalog.patch_cause(call.path["cause_id"], msgspec.to_builtins(call.body))
