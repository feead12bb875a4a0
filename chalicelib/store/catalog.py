"""Plans and causes, one table (`catalog`): hash key `kind` (PLAN | CAUSE), range key `item_id`."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel

PLAN = "PLAN"
CAUSE = "CAUSE"

T = TypeVar("T", Plan, Cause)


class CatalogRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("catalog")

    kind = UnicodeAttribute(hash_key=True)
    item_id = UnicodeAttribute(range_key=True)
    # The whole plan or cause as JSON: small, read together, validated by the domain type.
    document = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


def _load(kind: str, item_id: str, type_: type[T]) -> T | None:
    try:
        record = CatalogRecord.get(kind, item_id)
    except CatalogRecord.DoesNotExist:
        return None
    return msgspec.json.decode(record.document, type=type_)


def _list(kind: str, type_: type[T]) -> list[T]:
    return [msgspec.json.decode(r.document, type=type_) for r in CatalogRecord.query(kind)]


def get_plan(plan_id: str) -> Plan | None:
    return _load(PLAN, plan_id, Plan)


def list_plans() -> list[Plan]:
    return _list(PLAN, Plan)


def get_cause(cause_id: str) -> Cause | None:
    return _load(CAUSE, cause_id, Cause)


def list_causes() -> list[Cause]:
    return _list(CAUSE, Cause)


def save_plan(plan: Plan, now: object) -> None:
    CatalogRecord(PLAN, plan.plan_id, document=msgspec.json.encode(plan).decode(), updated_at=now).save()


def save_cause(cause: Cause, now: object) -> None:
    CatalogRecord(CAUSE, cause.cause_id, document=msgspec.json.encode(cause).decode(), updated_at=now).save()
