"""The donations ledger (`ledger` table): append-only entries and the disbursement listing.

One item per entry (`entry_id` = `pledge#order#<id>`, `pledge#invoice#<id>`, `reversal#<order id>#<refund
id>`, `disbursement#<id>`), written once (`does_not_exist`), never updated or deleted, in the same
transaction as the running totals it counts in (`store/totals.py`). Disbursements are listed per cause,
newest first, through the sparse `by-cause-listing` index, and keep what the brand recorded (the request
and its answer) so a retry answers as the first time.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import invocation
from chalicelib.domain.conflicts import (
    DisbursementAlreadyVoidedError,
    DuplicateDisbursementError,
    LedgerEntryExistsError,
    Recorded,
)
from chalicelib.domain.donations import CauseBalance, LedgerEntry, Posting, disbursement_entry_id
from chalicelib.domain.giving import void_entry_id
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel
from chalicelib.store.giving import add_giving_lines
from chalicelib.store.totals import add_posting_totals
from chalicelib.store.transaction import OnConflict, Transaction


class DisbursementListing(GlobalSecondaryIndex["LedgerEntryRecord"]):  # type: ignore[no-untyped-call]
    """Sparse: disbursements only, one partition per cause, newest first by `listing_order`."""

    class Meta:
        index_name = "by-cause-listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    listing_order = UnicodeAttribute(range_key=True)


class LedgerEntryRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("ledger")

    entry_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    cause_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    amount = NumberAttribute()
    period = UnicodeAttribute()
    orders = NumberAttribute(default=0)
    occurred_at = UTCDateTimeAttribute()
    recorded_at = UTCDateTimeAttribute()
    customer_ref = UnicodeAttribute(null=True)
    # Disbursements only: the listing index keys (the cause; recorded time + id) and what the brand recorded.
    listing = UnicodeAttribute(null=True)
    listing_order = UnicodeAttribute(null=True)
    by_cause_listing = DisbursementListing()
    request_hash = UnicodeAttribute(null=True)
    response = UnicodeAttribute(null=True)
    # The request that recorded it: a retried commit of that same request answers as its first success.
    request_id = UnicodeAttribute(null=True)
    # Voids only: why the disbursement was voided (`recorded_at` is when).
    void_reason = UnicodeAttribute(null=True)


class UnknownDisbursementError(Exception):
    """A listing cursor naming no recorded disbursement."""


def entry_record(posting: Posting, now: datetime, **extra: Any) -> LedgerEntryRecord:
    entry = posting.entry
    return LedgerEntryRecord(
        posting.entry_id, kind=entry.kind, cause_id=entry.cause_id, currency=entry.currency,
        amount=entry.amount, period=entry.period, orders=entry.orders, occurred_at=posting.occurred_at,
        recorded_at=now, customer_ref=posting.customer_ref, **extra,
    )  # fmt: skip


def add_posting(
    tx: Transaction,
    posting: Posting,
    now: datetime,
    *,
    on_conflict: OnConflict | None = None,
    record: LedgerEntryRecord | None = None,
    loaded: CauseBalance | None = None,
) -> None:
    """The entry (once: its id must not exist, else `on_conflict`, by default LedgerEntryExistsError)
    and its totals."""
    entry_id = posting.entry_id
    tx.put(
        record if record is not None else entry_record(posting, now),
        condition=LedgerEntryRecord.entry_id.does_not_exist(),
        on_conflict=on_conflict or (lambda _old: LedgerEntryExistsError(entry_id)),
    )
    add_posting_totals(tx, posting, loaded)
    add_giving_lines(tx, posting)


def recorded_of(item: LedgerEntryRecord | None) -> Recorded | None:
    if item is None:
        return None
    return Recorded(item.request_hash or "", json.loads(item.response or "{}"), item.request_id)


def add_disbursement(
    tx: Transaction,
    posting: Posting,
    loaded: CauseBalance,
    reply: Recorded,
    now: datetime,
    disbursement_id: str,
) -> None:
    """A disbursement decided on `loaded`: its entry (with the request and answer), the month's totals and
    the cause's paid-out sum, on condition that no other payout changed it since."""
    record = entry_record(
        posting, now, listing=posting.entry.cause_id, listing_order=listing_order(now, disbursement_id),
        request_hash=reply.request_hash, response=json.dumps(reply.response),
        request_id=invocation.request_id(),
    )  # fmt: skip
    add_posting(
        tx, posting, now, record=record, loaded=loaded,
        on_conflict=lambda old: DuplicateDisbursementError(recorded_of(old)),
    )  # fmt: skip


def listing_order(recorded_at: datetime, disbursement_id: str) -> str:
    # Sorts by recording time (microseconds, UTC), then id: newest first when read backwards.
    return f"{recorded_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{disbursement_id}"


def get_disbursement(disbursement_id: str) -> Recorded | None:
    """What a recorded disbursement's request was and answered."""
    try:
        item = LedgerEntryRecord.get(f"disbursement#{disbursement_id}", consistent_read=True)
    except LedgerEntryRecord.DoesNotExist:
        return None
    return recorded_of(item)


def list_disbursements(
    cause_ids: Iterable[str], limit: int, starting_after: str | None, currency: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Disbursements to the given causes, newest first, one page (cursor = the last disbursement_id seen).

    One Query per cause (the index's partitions), merged: the cost grows with the causes asked for and the
    page size, never with the number of disbursements before the cursor.
    """
    below: str | None = None
    if starting_after is not None:
        try:
            cursor = LedgerEntryRecord.get(f"disbursement#{starting_after}")
        except LedgerEntryRecord.DoesNotExist:
            raise UnknownDisbursementError(starting_after) from None
        below = cursor.listing_order
    pages = []
    for cause_id in sorted(set(cause_ids)):
        pages.append(
            LedgerEntryRecord.by_cause_listing.query(
                cause_id,
                range_key_condition=LedgerEntryRecord.listing_order < below if below else None,
                filter_condition=LedgerEntryRecord.currency == currency if currency else None,
                scan_index_forward=False,
                limit=limit + 1,
            )
        )
    merged = heapq.merge(*pages, key=lambda item: item.listing_order or "", reverse=True)
    items = [item for _, item in zip(range(limit + 1), merged, strict=False)]
    return [json.loads(item.response or "{}") for item in items[:limit]], len(items) > limit


def get_disbursement_entry(disbursement_id: str) -> tuple[LedgerEntry, dict[str, Any]] | None:
    """A recorded disbursement's entry and what it answered (one strongly consistent GetItem)."""
    try:
        item = LedgerEntryRecord.get(disbursement_entry_id(disbursement_id), consistent_read=True)
    except LedgerEntryRecord.DoesNotExist:
        return None
    entry = LedgerEntry(item.kind, item.cause_id, item.currency, int(item.amount), item.period)
    return entry, json.loads(item.response or "{}")


def add_void(tx: Transaction, posting: Posting, reason: str, now: datetime, disbursement_id: str) -> None:
    """The reversing entry of a disbursement (once: a second void is DisbursementAlreadyVoidedError)."""
    record = entry_record(posting, now, void_reason=reason)
    add_posting(
        tx, posting, now, record=record,
        on_conflict=lambda _old: DisbursementAlreadyVoidedError(disbursement_id),
    )  # fmt: skip


def voids_of(disbursement_ids: Iterable[str]) -> dict[str, tuple[datetime, str]]:
    """disbursement id → (voided_at, reason) for those voided: one BatchGetItem per 100 ids."""
    keys = [void_entry_id(d) for d in sorted(set(disbursement_ids))]
    voided = {}
    for item in LedgerEntryRecord.batch_get(keys):
        voided[item.entry_id.partition("#")[2]] = (item.recorded_at, item.void_reason or "")
    return voided


def cause_disbursements(cause_id: str, currency: str | None = None) -> list[dict[str, Any]]:
    """Every disbursement recorded to a cause (what it answered), newest first: one Query (grows with the
    cause's payouts, never with orders)."""
    items = LedgerEntryRecord.by_cause_listing.query(
        cause_id,
        filter_condition=LedgerEntryRecord.currency == currency if currency else None,
        scan_index_forward=False,
    )
    return [json.loads(item.response or "{}") for item in items]
