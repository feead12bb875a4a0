"""Shoppers and their Stripe subscriptions (`members` table, hash key `customer_ref`).

One item per shopper holds every subscription they have had (as snapshots), so the checkout
hot path reads one item and decides perks with `domain.membership`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import msgspec
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.constants import STRING
from pynamodb.exceptions import PutError
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.domain.cohorts import CohortStanding
from chalicelib.domain.conflicts import StaleMemberError
from chalicelib.domain.member import Member, ValueFigures
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.referral import Referral
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors
from chalicelib.store.shards import reconcile_bucket, reconcile_buckets

T = TypeVar("T")
_encode = msgspec.json.Encoder().encode


class JsonAttribute(Attribute[T]):
    """A typed value of the member (subscriptions, invoice ids, cohort, period marks, referral) stored
    as one JSON string and decoded back to its type."""

    attr_type = STRING

    def __init__(self, type_: type[T], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._decode = msgspec.json.Decoder(type_).decode

    def serialize(self, value: T) -> str:
        return _encode(value).decode()

    def deserialize(self, value: str) -> T:
        decoded: T = self._decode(value)
        return decoded


class StripeCustomerIndex(GlobalSecondaryIndex["MemberRecord"]):  # type: ignore[no-untyped-call]
    """Stripe customer id → customer_ref, for events that name only the Stripe customer."""

    class Meta:
        index_name = "by-stripe-customer"
        projection = KeysOnlyProjection()

    stripe_customer_id = UnicodeAttribute(hash_key=True)


class ReconcileIndex(GlobalSecondaryIndex["MemberRecord"]):  # type: ignore[no-untyped-call]
    """Sparse: only shoppers whose state may go stale are in it, by when to re-read them from Stripe.

    Spread over `RECONCILE_BUCKETS` partition keys (`due#<bucket>`, the bucket from the customer_ref)
    so that no key holds every member; the hourly job walks them all.
    """

    class Meta:
        index_name = "by-reconcile-at"
        projection = KeysOnlyProjection()

    reconcile_shard = UnicodeAttribute(hash_key=True)
    reconcile_at = NumberAttribute(range_key=True)


def reconcile_key(customer_ref: str) -> str:
    return f"due#{reconcile_bucket(customer_ref)}"


class MemberRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("members")

    customer_ref = UnicodeAttribute(hash_key=True)
    stripe_customer_id = UnicodeAttribute(null=True)
    by_stripe_customer = StripeCustomerIndex()
    email = UnicodeAttribute(null=True)
    cause_id = UnicodeAttribute(null=True)
    subscriptions = JsonAttribute(list[SubscriptionSnapshot], default=list)
    member_since = UTCDateTimeAttribute(null=True)
    checkout_started_at = UTCDateTimeAttribute(null=True)
    reconcile_shard = UnicodeAttribute(null=True)
    reconcile_at = NumberAttribute(null=True)
    by_reconcile_at = ReconcileIndex()
    paid_invoices = JsonAttribute(list[str], default=list)
    cohort = JsonAttribute(CohortStanding, null=True)
    # The sequence of the shopper's last outbound event: concurrent facts serialize on `version`.
    last_sequence = NumberAttribute(default=0)
    period_marks = JsonAttribute(dict[str, ValueFigures], default=dict)
    # Perks active at the last write (`Member.perks_written`); absent on items written before it was kept.
    perks_written = BooleanAttribute(null=True)
    dunning_invoice = UnicodeAttribute(null=True)
    referral_code = UnicodeAttribute(null=True)
    referred = JsonAttribute(Referral, null=True)
    referral_rewards = JsonAttribute(dict[str, int], default=dict)
    gifted_until = UTCDateTimeAttribute(null=True)
    gifted_plan_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()


# The member aggregate is what services see of a shopper (`domain.member.Member`).
MemberState = Member


def to_state(record: MemberRecord) -> MemberState:
    return MemberState(
        customer_ref=record.customer_ref,
        stripe_customer_id=record.stripe_customer_id,
        email=record.email,
        cause_id=record.cause_id,
        subscriptions=list(record.subscriptions or []),
        member_since=record.member_since,
        checkout_started_at=record.checkout_started_at,
        reconcile_at=int(record.reconcile_at) if record.reconcile_at is not None else None,
        paid_invoices=list(record.paid_invoices or []),
        cohort=record.cohort,
        created_at=record.created_at,
        last_sequence=int(record.last_sequence or 0),
        period_marks=dict(record.period_marks or {}),
        perks_written=record.perks_written,
        dunning_invoice=record.dunning_invoice,
        referral_code=record.referral_code,
        referred=record.referred,
        referral_rewards=dict(record.referral_rewards or {}),
        gifted_until=record.gifted_until,
        gifted_plan_id=record.gifted_plan_id,
        version=record.version,
    )


def get_member(customer_ref: str) -> MemberState | None:
    """One GetItem: the whole shopper, or None for an unknown one."""
    try:
        # Strongly consistent: a shopper who paid a moment ago must see perks on the next check.
        return to_state(MemberRecord.get(customer_ref, consistent_read=True))
    except MemberRecord.DoesNotExist:
        return None


def record_of(state: MemberState, now: datetime) -> MemberRecord:
    record = MemberRecord(
        state.customer_ref,
        stripe_customer_id=state.stripe_customer_id,
        email=state.email,
        cause_id=state.cause_id,
        subscriptions=state.subscriptions,
        member_since=state.member_since,
        checkout_started_at=state.checkout_started_at,
        reconcile_shard=reconcile_key(state.customer_ref) if state.reconcile_at is not None else None,
        reconcile_at=state.reconcile_at,
        paid_invoices=state.paid_invoices,
        cohort=state.cohort,
        last_sequence=state.last_sequence,
        period_marks=state.period_marks,
        perks_written=state.perks_written,
        dunning_invoice=state.dunning_invoice,
        referral_code=state.referral_code,
        referred=state.referred,
        referral_rewards=state.referral_rewards,
        gifted_until=state.gifted_until,
        gifted_plan_id=state.gifted_plan_id,
        created_at=state.created_at or now,
        updated_at=now,
    )
    # The version read with the state: pynamodb turns it into the write's condition.
    if state.version is not None:
        record.version = state.version
    return record


def save_member(state: MemberState, now: datetime) -> MemberState:
    """Write the shopper if nobody changed it since it was read (a new one only if it does not exist).

    For seeding and operators; services change shoppers through `store.unit_of_work`.
    Raises StaleMemberError on a concurrent change.
    """
    record = record_of(state, now)
    with storage_errors():
        try:
            record.save()
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StaleMemberError(state.customer_ref) from exc
            raise
    return to_state(record)


def find_by_stripe_customer(stripe_customer_id: str) -> str | None:
    """The customer_ref of a Stripe customer, or None if it is not one of ours."""
    for hit in MemberRecord.by_stripe_customer.query(stripe_customer_id, limit=1):
        return str(hit.customer_ref)
    return None


def due_for_reconcile(now_epoch: int, limit: int, first_bucket: int = 0) -> list[str]:
    """Up to `limit` shoppers whose reconcile time has come: bucket by bucket from `first_bucket`
    (wrapping around), each bucket's most overdue first.

    The caller rotates `first_bucket` from run to run: a run that stops early (out of time) leaves the
    rest of the walk due, and shoppers that keep failing cannot sit at the head of every run.
    One Query per bucket visited, each for at most the keys still wanted.
    """
    buckets = reconcile_buckets()
    due: list[str] = []
    for step in range(len(buckets)):
        if len(due) >= limit:
            break
        bucket = buckets[(first_bucket + step) % len(buckets)]
        hits = MemberRecord.by_reconcile_at.query(
            f"due#{bucket}", MemberRecord.reconcile_at <= now_epoch, limit=limit - len(due)
        )
        due += [str(hit.customer_ref) for hit in hits]
    return due[:limit]
