"""Plans and causes: public reads, brand writes."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.routing import BRAND, PUBLIC, Call, endpoint
from chalicelib.api.schemas import CauseList, ListQuery, PlanList, page
from chalicelib.domain.catalog import Cause, CauseTerms, Plan, PlanTerms
from chalicelib.services import catalog

catalog_api = Blueprint(__name__)


@endpoint(
    catalog_api, "GET", "/v1/plans", summary="List plans", tag="catalog", roles=PUBLIC,
    query=ListQuery, response=PlanList,
)  # fmt: skip
def list_plans(call: Call[Any, ListQuery]) -> PlanList:
    data, has_more = page(list(catalog.plans().values()), "plan_id", call.query)
    return PlanList(data=data, has_more=has_more)  # type: ignore[arg-type]


@endpoint(
    catalog_api, "PUT", "/v1/plans/{plan_id}", summary="Create or update a plan (syncs its Stripe Price)",
    tag="catalog", roles=BRAND, body=PlanTerms, response=Plan, errors=(400, 502),
)  # fmt: skip
def put_plan(call: Call[PlanTerms, Any]) -> Plan:
    return catalog.put_plan(call.path["plan_id"], call.body)


@endpoint(
    catalog_api, "GET", "/v1/causes", summary="List causes", tag="catalog", roles=PUBLIC,
    query=ListQuery, response=CauseList,
)  # fmt: skip
def list_causes(call: Call[Any, ListQuery]) -> CauseList:
    data, has_more = page(list(catalog.causes().values()), "cause_id", call.query)
    return CauseList(data=data, has_more=has_more)  # type: ignore[arg-type]


@endpoint(
    catalog_api, "PUT", "/v1/causes/{cause_id}", summary="Create or update a cause", tag="catalog",
    roles=BRAND, body=CauseTerms, response=Cause, errors=(400,),
)  # fmt: skip
def put_cause(call: Call[CauseTerms, Any]) -> Cause:
    return catalog.put_cause(call.path["cause_id"], call.body)
