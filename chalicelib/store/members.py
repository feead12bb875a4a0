"""Shoppers and their Stripe subscriptions (`members` table, hash key `customer_ref`).

One item per shopper holds every subscription they have had (as snapshots), so the checkout
hot path reads one item and decides perks with `domain.membership`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from pynamodb.attributes import Attribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.constants import STRING
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[SubscriptionSnapshot]).decode


class SnapshotsAttribute(Attribute[list[SubscriptionSnapshot]]):
    """The shopper's subscriptions, stored as one JSON string."""

    attr_type = STRING

    def serialize(self, value: list[SubscriptionSnapshot]) -> str:
        return _encode(value).decode()

    def deserialize(self, value: str) -> list[SubscriptionSnapshot]:
        return _decode(value)


class StripeCustomerIndex(GlobalSecondaryIndex["MemberRecord"]):  # type: ignore[no-untyped-call]
    """Stripe customer id → customer_ref, for events that name only the Stripe customer."""

    class Meta:
        index_name = "by-stripe-customer"
        projection = KeysOnlyProjection()

    stripe_customer_id = UnicodeAttribute(hash_key=True)


class MemberRecord(Model):
    class Meta(BaseMeta):
        table_name = settings.table_name("members")

    customer_ref = UnicodeAttribute(hash_key=True)
    stripe_customer_id = UnicodeAttribute(null=True)
    by_stripe_customer = StripeCustomerIndex()
    email = UnicodeAttribute(null=True)
    cause_id = UnicodeAttribute(null=True)
    subscriptions = SnapshotsAttribute(default=list)
    member_since = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


@dataclass(slots=True)
class MemberState:
    """A shopper as the services see it."""

    customer_ref: str
    stripe_customer_id: str | None = None
    email: str | None = None
    cause_id: str | None = None
    subscriptions: list[SubscriptionSnapshot] = field(default_factory=list)
    member_since: datetime | None = None
    version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def to_state(record: MemberRecord) -> MemberState:
    return MemberState(
        customer_ref=record.customer_ref,
        stripe_customer_id=record.stripe_customer_id,
        email=record.email,
        cause_id=record.cause_id,
        subscriptions=list(record.subscriptions or []),
        member_since=record.member_since,
        version=record.version,
    )


def get_member(customer_ref: str) -> MemberState | None:
    """One GetItem: the whole shopper, or None for an unknown one."""
    try:
        # Strongly consistent: a shopper who paid a moment ago must see perks on the next check.
        return to_state(MemberRecord.get(customer_ref, consistent_read=True))
    except MemberRecord.DoesNotExist:
        return None
