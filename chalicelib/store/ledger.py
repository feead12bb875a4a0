"""The donations ledger: append-only entries, order and refund records, and running totals.

Tables (names from `settings.table_name`):
- `ledger`: one item per entry (`entry_id` = `pledge#order#<id>`, `pledge#invoice#<id>`,
  `reversal#<order id>#<refund id>`, `disbursement#<id>`), written once (`does_not_exist`), never
  updated or deleted. Disbursements are listed per cause, newest first, through the sparse
  `by-cause-listing` index.
- `orders`: per order the record (`record` = `order`) with refunded/reversed running sums under a
  version check, and one record per refund (`refund#<id>`); these make the natural ids idempotent.
- `donation_totals`: running sums updated with ADD in the same transaction as each entry, write-sharded
  (`store/shards.py`) so that no item or partition key takes a large share of a peak's writes:
  scope `month#<shard>` (key `YYYY-MM#cause#currency`), scope `all#<shard>` (key `cause#currency`) and
  scope `member#<customer_ref>` (key `currency#cause`: a member's impact per cause). The shard is
  chosen from the entry id; readers sum every shard. A cause's all-time `disbursed` lives on its
  shard-0 item only, which disbursements condition on (see `record_disbursement`).
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import TransactGetError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib import invocation
from chalicelib.domain.donations import DISBURSEMENT, Balance, LedgerEntry
from chalicelib.settings import settings
from chalicelib.store.base import (
    BaseMeta,
    BaseModel,
    cancellation_codes,
    storage_errors,
    transaction_connection,
)
from chalicelib.store.shards import totals_shard, totals_shards

ORDER = "order"
# Entry ids join client ids with `#`, which client ids cannot contain (they may contain `:`), so two
# different (order, refund) pairs can never produce the same id.
# A cause's all-time disbursed sum lives on this shard only: shard 0 exists whatever TOTALS_SHARDS is.
PAYOUT_SHARD = 0


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


class OrderRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("orders")

    order_id = UnicodeAttribute(hash_key=True)
    record = UnicodeAttribute(range_key=True)
    request_hash = UnicodeAttribute()
    response = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute(null=True)
    customer_ref = UnicodeAttribute(null=True)
    cause_id = UnicodeAttribute(null=True)
    donation = NumberAttribute(default=0)
    refunded = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    # The cohort (`<month>#<plan_id>`) the order's revenue was counted in; its refunds reverse it there.
    cohort = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    # The request that recorded it: a retried commit of that same request answers as its first success.
    request_id = UnicodeAttribute(null=True)
    version = VersionAttribute()


class DonationTotalsRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("donation_totals")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    pledged = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    disbursed = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)


class DuplicateRecordError(Exception):
    """The natural id was recorded before; read it to answer (same body) or refuse (other body)."""


class StaleOrderError(Exception):
    """The order changed since it was read (a concurrent refund): read again and retry."""


class InsufficientBalanceError(Exception):
    """A disbursement larger than the cause's outstanding balance in that currency."""

    def __init__(self, outstanding: int) -> None:
        super().__init__(outstanding)
        self.outstanding = outstanding


class ConcurrentTotalsError(Exception):
    """DynamoDB cancelled the transaction because another one touched the same items, or a concurrent
    disbursement changed the balance since it was read: read again and retry."""


class UnknownDisbursementError(Exception):
    """A listing cursor naming no recorded disbursement."""


@dataclass(frozen=True, slots=True)
class StoredOrder:
    order_id: str
    request_hash: str
    response: dict[str, Any]
    amount: int
    donation: int
    cause_id: str | None
    customer_ref: str | None
    currency: str | None
    refunded: int
    reversed: int
    version: int
    # The request that recorded it (None outside requests).
    request_id: str | None = None
    cohort: str | None = None

    def recorded_by_this_request(self) -> bool:
        """Whether this record was written by the running request (a transaction botocore retried)."""
        return self.request_id is not None and self.request_id == invocation.request_id()


TotalsKey = tuple[str, str]  # (scope, key) of a donation_totals item


def _month_scope(shard: int) -> str:
    return f"month#{shard}"


def _all_scope(shard: int) -> str:
    return f"all#{shard}"


def totals_contributions(
    entry_id: str, entry: LedgerEntry, customer_ref: str | None
) -> list[tuple[TotalsKey, Balance]]:
    """Which totals items the entry adds to, and what it adds to each: the one layout rule, used by every
    write and by the rebuild from the ledger (so a rebuild lands every sum on the same item)."""
    delta = Balance()
    delta.add(entry)
    shard = totals_shard(entry_id)
    pair = f"{entry.cause_id}#{entry.currency}"
    month: TotalsKey = (_month_scope(shard), f"{entry.period}#{pair}")
    if entry.kind == DISBURSEMENT:
        # The month row shows the payout; the all-time sum goes to the one item disbursements check.
        return [(month, delta), ((_all_scope(PAYOUT_SHARD), pair), delta)]
    contributions = [(month, delta), ((_all_scope(shard), pair), delta)]
    if customer_ref is not None:
        member = Balance(pledged=delta.pledged, reversed=delta.reversed)
        contributions.append(((f"member#{customer_ref}", f"{entry.currency}#{entry.cause_id}"), member))
    return contributions


def _adds(delta: Balance) -> list[Action]:
    fields = (
        (DonationTotalsRecord.pledged, delta.pledged),
        (DonationTotalsRecord.reversed, delta.reversed),
        (DonationTotalsRecord.disbursed, delta.disbursed),
        (DonationTotalsRecord.orders, delta.orders),
    )
    return [attribute.add(value) for attribute, value in fields if value]


def add_entry_totals(
    transaction: TransactWrite,
    entry_id: str,
    entry: LedgerEntry,
    customer_ref: str | None,
    *,
    condition: Condition | None = None,
) -> None:
    """ADD the entry to its month, all-time (and member) totals inside `transaction`.

    `condition` applies to the last item (the all-time item), the one disbursements check.
    """
    contributions = totals_contributions(entry_id, entry, customer_ref)
    for index, ((scope, key), delta) in enumerate(contributions):
        last = index == len(contributions) - 1
        transaction.update(
            DonationTotalsRecord(scope, key), actions=_adds(delta), condition=condition if last else None
        )


def _entry_record(
    entry_id: str, entry: LedgerEntry, occurred_at: datetime, now: datetime, **extra: Any
) -> LedgerEntryRecord:
    return LedgerEntryRecord(
        entry_id,
        kind=entry.kind,
        cause_id=entry.cause_id,
        currency=entry.currency,
        amount=entry.amount,
        period=entry.period,
        orders=entry.orders,
        occurred_at=occurred_at,
        recorded_at=now,
        **extra,
    )


def _run(
    transaction_items: Any,
    *,
    duplicate_at: int = 0,
    stale_at: int | None = None,
    balance_at: int | None = None,
) -> None:
    """Commit a transaction; map DynamoDB's per-item cancellation reasons to our errors.

    Indexes follow the order pynamodb sends items in: condition checks, deletes, puts, updates.
    """
    token = invocation.client_request_token()
    with storage_errors():
        try:
            with TransactWrite(
                connection=transaction_connection(), client_request_token=token
            ) as transaction:
                transaction_items(transaction)
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if len(codes) > duplicate_at and codes[duplicate_at] == "ConditionalCheckFailed":
                raise DuplicateRecordError() from exc
            if stale_at is not None and len(codes) > stale_at and codes[stale_at] == "ConditionalCheckFailed":
                raise StaleOrderError() from exc
            if (
                balance_at is not None
                and len(codes) > balance_at
                and codes[balance_at] == "ConditionalCheckFailed"
            ):
                raise ConcurrentTotalsError() from exc
            if "TransactionConflict" in codes:
                raise ConcurrentTotalsError() from exc
            raise


def create_order(
    order_id: str,
    request_hash: str,
    response: dict[str, Any],
    *,
    amount: int,
    currency: str,
    customer_ref: str,
    pledge: LedgerEntry | None,
    occurred_at: datetime,
    now: datetime,
    also: Callable[[TransactWrite], None] | None = None,
    cohort: str | None = None,
) -> None:
    """The order record and, for a member, its pledge and the totals: all in one transaction.

    `also` adds the caller's own items to the transaction; a failed condition on its first put (the
    shopper's counting history, read with the member) raises StaleOrderError.
    """
    record = OrderRecord(
        order_id, ORDER, request_hash=request_hash, response=json.dumps(response), amount=amount,
        currency=currency, customer_ref=customer_ref, cause_id=pledge.cause_id if pledge else None,
        donation=pledge.amount if pledge else 0, cohort=cohort, created_at=now,
        request_id=invocation.request_id(),
    )  # fmt: skip

    def items(transaction: TransactWrite) -> None:
        transaction.save(record)  # version condition: the order must not exist yet
        if pledge is not None:
            add_entry(transaction, f"pledge#order#{order_id}", pledge, occurred_at, now, customer_ref)
        if also is not None:
            also(transaction)

    # Puts come first: the order (0), the pledge entry (1, if any), then `also`'s put.
    _run(items, duplicate_at=0, stale_at=2 if pledge is not None else 1)


def get_order(order_id: str, record: str = ORDER) -> StoredOrder | None:
    try:
        item = OrderRecord.get(order_id, record, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return StoredOrder(
        order_id=item.order_id, request_hash=item.request_hash, response=json.loads(item.response),
        amount=int(item.amount), donation=int(item.donation), cause_id=item.cause_id,
        customer_ref=item.customer_ref, currency=item.currency, refunded=int(item.refunded),
        reversed=int(item.reversed), version=int(item.version or 0), request_id=item.request_id,
        cohort=item.cohort,
    )  # fmt: skip


def record_refund(
    order: StoredOrder,
    refund_id: str,
    request_hash: str,
    response: dict[str, Any],
    *,
    amount: int,
    reversal: LedgerEntry | None,
    now: datetime,
    also: Callable[[TransactWrite], None] | None = None,
) -> None:
    """The refund record, the order's new running sums (version-checked) and the reversal, at once.

    `also` adds the caller's own updates (no puts) to the transaction.
    """
    refund = OrderRecord(
        order.order_id, f"refund#{refund_id}", request_hash=request_hash, response=json.dumps(response),
        amount=amount, created_at=now, request_id=invocation.request_id(),
    )  # fmt: skip
    updated = OrderRecord(order.order_id, ORDER)
    updated.version = order.version

    def items(transaction: TransactWrite) -> None:
        transaction.save(refund)
        transaction.update(
            updated,
            actions=[
                OrderRecord.refunded.set(order.refunded + amount),
                OrderRecord.reversed.set(order.reversed + (reversal.amount if reversal else 0)),
            ],
        )
        if reversal is not None:
            add_entry(
                transaction, f"reversal#{order.order_id}#{refund_id}", reversal, now, now, order.customer_ref
            )
        if also is not None:
            also(transaction)

    # pynamodb sends puts before updates: the refund (and reversal entry) first, then the order update.
    _run(items, duplicate_at=0, stale_at=2 if reversal is not None else 1)


def add_entry(
    transaction: TransactWrite,
    entry_id: str,
    entry: LedgerEntry,
    occurred_at: datetime,
    now: datetime,
    customer_ref: str | None,
) -> None:
    """Add a new entry (`does_not_exist`: an id is recorded once) and its totals to `transaction`.

    For transactions assembled elsewhere (a member's unit of work): the entry's put comes first
    among what this adds, so its cancellation reason follows the caller's own puts.
    """
    transaction.save(
        _entry_record(entry_id, entry, occurred_at, now, customer_ref=customer_ref),
        condition=LedgerEntryRecord.entry_id.does_not_exist(),
    )
    add_entry_totals(transaction, entry_id, entry, customer_ref)


def _pair_shards(cause_id: str, currency: str) -> list[DonationTotalsRecord]:
    """The cause's all-time shard items in one currency, read as one consistent snapshot."""
    pair = f"{cause_id}#{currency}"
    with storage_errors():
        try:
            with TransactGet(connection=transaction_connection()) as transaction:
                futures = [
                    transaction.get(DonationTotalsRecord, _all_scope(shard), pair)
                    for shard in totals_shards()
                ]
        except TransactGetError as exc:
            # Cancelled because a transaction was writing one of the items at that moment: read again.
            if exc.cause_response_code == "TransactionCanceledException":
                raise ConcurrentTotalsError() from exc
            raise
    items = []
    for future in futures:
        try:
            items.append(future.get())
        except DonationTotalsRecord.DoesNotExist:
            continue
    return items


def _balance(item: DonationTotalsRecord) -> Balance:
    return Balance(int(item.pledged), int(item.reversed), int(item.disbursed), int(item.orders))


def _summed(items: Iterable[DonationTotalsRecord]) -> Balance:
    total = Balance()
    for item in items:
        total.pledged += int(item.pledged)
        total.reversed += int(item.reversed)
        total.disbursed += int(item.disbursed)
        total.orders += int(item.orders)
    return total


def outstanding(cause_id: str, currency: str) -> int:
    """What the cause is owed in that currency: the sum of its shards, net of what was paid out."""
    return _summed(_pair_shards(cause_id, currency)).outstanding


def record_disbursement(
    disbursement_id: str,
    entry: LedgerEntry,
    request_hash: str,
    response: dict[str, Any],
    paid_at: datetime,
    now: datetime,
) -> None:
    """The disbursement, if the cause's outstanding balance covers it.

    With the totals spread over shards no single item holds the balance, so: read every shard of the
    cause in one TransactGetItems (a consistent snapshot), refuse if the sum does not cover the amount,
    and commit on the condition that the cause's `disbursed` (kept on its shard-0 item only, and changed
    only by disbursements) is still what was read. Two concurrent disbursements cannot both pass: the
    second finds `disbursed` changed and re-reads. Pledges and reversals never touch `disbursed`, so they
    do not stop a payout; a reversal that commits meanwhile counts as a refund after the payout.
    """
    shards = _pair_shards(entry.cause_id, entry.currency)
    balance = _summed(shards)
    if balance.outstanding < entry.amount:
        raise InsufficientBalanceError(balance.outstanding)
    paid = next((int(item.disbursed) for item in shards if item.scope == _all_scope(PAYOUT_SHARD)), 0)
    unchanged = DonationTotalsRecord.disbursed == paid
    if paid == 0:
        unchanged = unchanged | DonationTotalsRecord.disbursed.does_not_exist()
    entry_id = f"disbursement#{disbursement_id}"

    def items(transaction: TransactWrite) -> None:
        transaction.save(
            _entry_record(
                entry_id, entry, paid_at, now, listing=entry.cause_id,
                listing_order=_listing_order(now, disbursement_id),
                request_hash=request_hash, response=json.dumps(response), request_id=invocation.request_id(),
            ),
            condition=LedgerEntryRecord.entry_id.does_not_exist(),
        )  # fmt: skip
        add_entry_totals(transaction, entry_id, entry, None, condition=unchanged)

    # Items: 0 the entry, 1 the month totals, 2 the cause's shard-0 all-time item (carrying the condition).
    _run(items, duplicate_at=0, balance_at=2)


def _listing_order(recorded_at: datetime, disbursement_id: str) -> str:
    # Sorts by recording time (microseconds, UTC), then id: newest first when read backwards.
    return f"{recorded_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{disbursement_id}"


@dataclass(frozen=True, slots=True)
class StoredDisbursement:
    request_hash: str
    response: dict[str, Any]
    request_id: str | None

    def recorded_by_this_request(self) -> bool:
        """Whether this record was written by the running request (a transaction botocore retried)."""
        return self.request_id is not None and self.request_id == invocation.request_id()


def get_disbursement(disbursement_id: str) -> StoredDisbursement | None:
    """What a recorded disbursement's request was and answered."""
    try:
        item = LedgerEntryRecord.get(f"disbursement#{disbursement_id}", consistent_read=True)
    except LedgerEntryRecord.DoesNotExist:
        return None
    return StoredDisbursement(item.request_hash or "", json.loads(item.response or "{}"), item.request_id)


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


def monthly_totals(first: str, last: str) -> Iterator[tuple[str, str, str, Balance]]:
    """(period, cause_id, currency, balance) for the months first..last, in key order.

    One Query per shard: the cost grows with shards × causes × months, never with orders.
    """
    sums: dict[str, Balance] = {}
    for shard in totals_shards():
        for item in DonationTotalsRecord.query(
            _month_scope(shard), DonationTotalsRecord.key.between(f"{first}#", f"{last}#~")
        ):
            sums.setdefault(item.key, Balance()).merge(_balance(item))
    for key in sorted(sums):
        period, cause_id, currency = key.split("#")
        yield period, cause_id, currency, sums[key]


def all_time_totals() -> Iterator[tuple[str, str, Balance]]:
    """(cause_id, currency, balance) over all time: one Query per shard."""
    sums: dict[str, Balance] = {}
    for shard in totals_shards():
        for item in DonationTotalsRecord.query(_all_scope(shard)):
            sums.setdefault(item.key, Balance()).merge(_balance(item))
    for key in sorted(sums):
        cause_id, currency = key.split("#")
        yield cause_id, currency, sums[key]


def member_totals(customer_ref: str) -> dict[tuple[str, str], Balance]:
    """(currency, cause_id) → what the shopper's orders and fees pledged and reversed there."""
    totals: dict[tuple[str, str], Balance] = {}
    for item in DonationTotalsRecord.query(f"member#{customer_ref}"):
        currency, _, cause_id = item.key.partition("#")
        totals[(currency, cause_id)] = _balance(item)
    return totals


def scan_entries() -> Iterator[tuple[str, LedgerEntry, str | None]]:
    """Every ledger entry (operators' rebuild of the totals): its id, the entry and its shopper."""
    for item in LedgerEntryRecord.scan():
        yield (
            item.entry_id,
            LedgerEntry(
                item.kind, item.cause_id, item.currency, int(item.amount), item.period, int(item.orders)
            ),
            item.customer_ref,
        )


def stored_totals() -> dict[TotalsKey, Balance]:
    """Every totals item as it is stored, whatever its layout (operators' comparison and migration)."""
    return {(item.scope, item.key): _balance(item) for item in DonationTotalsRecord.scan()}


def replace_totals(expected: dict[TotalsKey, Balance]) -> None:
    """Overwrite the totals table with totals recomputed from the ledger (operators only)."""
    with DonationTotalsRecord.batch_write() as batch:
        for item in DonationTotalsRecord.scan():
            if (item.scope, item.key) not in expected:
                batch.delete(item)
        for (scope, key), b in expected.items():
            batch.save(
                DonationTotalsRecord(
                    scope, key, pledged=b.pledged, reversed=b.reversed, disbursed=b.disbursed, orders=b.orders
                )
            )


# The layout before write sharding: one `month` and one `all` partition for the whole store.
LEGACY_SCOPES = {"month": _month_scope(PAYOUT_SHARD), "all": _all_scope(PAYOUT_SHARD)}


def logical_totals(items: dict[TotalsKey, Balance]) -> dict[TotalsKey, Balance]:
    """Totals items summed per what they count, whatever shard (or earlier layout) holds them:
    ("month", "YYYY-MM#cause#currency"), ("all", "cause#currency") and ("member#<ref>", "currency#cause")."""
    sums: dict[TotalsKey, Balance] = {}
    for (scope, key), balance in items.items():
        kind = scope.split("#", 1)[0]
        logical = (kind, key) if kind in LEGACY_SCOPES else (scope, key)
        sums.setdefault(logical, Balance()).merge(balance)
    return sums


def move_legacy_totals() -> int:
    """Move totals written in the unsharded layout onto shard 0 of the current one; returns how many.

    Each item moves in one transaction (delete it, ADD its sums to the new item), so the move is safe
    while orders are being recorded and can be run again after an interruption.
    """
    moved = 0
    for scope, target in LEGACY_SCOPES.items():
        for item in DonationTotalsRecord.query(scope):
            try:
                _run(_move(item, target))
            except DuplicateRecordError:
                continue  # moved meanwhile by another run
            moved += 1
    return moved


def _move(item: DonationTotalsRecord, target_scope: str) -> Callable[[TransactWrite], None]:
    def items(transaction: TransactWrite) -> None:
        transaction.delete(
            DonationTotalsRecord(item.scope, item.key), condition=DonationTotalsRecord.key.exists()
        )
        add = _adds(_balance(item))
        if add:
            transaction.update(DonationTotalsRecord(target_scope, item.key), actions=add)

    return items


def is_legacy_member_key(scope: str, key: str) -> bool:
    """A shopper's totals item of the layout before impact per cause: key `<currency>`, no cause."""
    return scope.startswith("member#") and "#" not in key


def per_currency(sums: dict[TotalsKey, Balance], scopes: set[str]) -> dict[TotalsKey, Balance]:
    """`sums` with the given shoppers' items summed per currency (`currency#cause` → `currency`), the
    level at which a shopper still holding an earlier-layout item can be compared."""
    out: dict[TotalsKey, Balance] = {}
    for (scope, key), balance in sums.items():
        logical = (scope, key.split("#", 1)[0]) if scope in scopes else (scope, key)
        out.setdefault(logical, Balance()).merge(balance)
    return out


def move_legacy_member_totals() -> int:
    """Split each shopper's per-currency item of the earlier layout into its per-cause items; returns
    how many moved.

    The old item's share of each cause is what the ledger holds for the shopper there minus what the
    per-cause items already hold (orders recorded since the change). An item is moved only when those
    shares add up to it exactly (else it is left as it is and the comparison reports it), in one
    transaction: delete it (it must still exist), ADD each share to its per-cause item.
    """
    legacy = [item for item in DonationTotalsRecord.scan() if is_legacy_member_key(item.scope, item.key)]
    if not legacy:
        return 0
    ledger_sums: dict[TotalsKey, Balance] = {}
    for entry_id, entry, customer_ref in scan_entries():
        for (scope, key), delta in totals_contributions(entry_id, entry, customer_ref):
            if scope.startswith("member#"):
                ledger_sums.setdefault((scope, key), Balance()).merge(delta)
    moved = 0
    for item in legacy:
        stored = {
            (other.scope, other.key): _balance(other)
            for other in DonationTotalsRecord.query(
                item.scope, DonationTotalsRecord.key.startswith(f"{item.key}#")
            )
        }
        shares: dict[TotalsKey, Balance] = {}
        for target, total in ledger_sums.items():
            if target[0] == item.scope and target[1].startswith(f"{item.key}#"):
                have = stored.get(target, Balance())
                shares[target] = Balance(
                    total.pledged - have.pledged, total.reversed - have.reversed,
                    total.disbursed - have.disbursed, total.orders - have.orders,
                )  # fmt: skip
        summed = Balance()
        for share in shares.values():
            summed.merge(share)
        old = _balance(item)
        if (summed.pledged, summed.reversed, summed.disbursed, summed.orders) != (
            old.pledged, old.reversed, old.disbursed, old.orders,
        ):  # fmt: skip
            continue
        try:
            _run(_split(item, shares))
        except DuplicateRecordError:
            continue  # moved meanwhile by another run
        moved += 1
    return moved


def _split(item: DonationTotalsRecord, shares: dict[TotalsKey, Balance]) -> Callable[[TransactWrite], None]:
    def items(transaction: TransactWrite) -> None:
        transaction.delete(
            DonationTotalsRecord(item.scope, item.key), condition=DonationTotalsRecord.key.exists()
        )
        for (scope, key), share in shares.items():
            add = _adds(share)
            if add:
                transaction.update(DonationTotalsRecord(scope, key), actions=add)

    return items


def move_legacy_listing_keys() -> int:
    """Re-key disbursements recorded under the earlier constant listing key; returns how many."""
    moved = 0
    for item in LedgerEntryRecord.scan(LedgerEntryRecord.kind == DISBURSEMENT):
        if item.listing_order is not None:
            continue
        disbursement_id = item.entry_id.split("#", 1)[1]
        item.update(
            actions=[
                LedgerEntryRecord.listing.set(item.cause_id),
                LedgerEntryRecord.listing_order.set(_listing_order(item.recorded_at, disbursement_id)),
            ],
            condition=LedgerEntryRecord.listing_order.does_not_exist(),
        )
        moved += 1
    return moved
