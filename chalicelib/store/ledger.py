"""The donations ledger: append-only entries, order and refund records, and running totals.

Tables (names from `settings.table_name`):
- `ledger`: one item per entry (`entry_id` = `pledge#order#<id>`, `pledge#invoice#<id>`,
  `reversal#<order id>#<refund id>`, `disbursement#<id>`), written once (`does_not_exist`), never
  updated or deleted. Disbursements are listed through the sparse `by-listing` index.
- `orders`: per order the record (`record` = `order`) with refunded/reversed running sums under a
  version check, and one record per refund (`refund#<id>`); these make the natural ids idempotent.
- `donation_totals`: running sums updated with ADD in the same transaction as each entry:
  scope `month` (key `YYYY-MM#cause#currency`), scope `all` (key `cause#currency`, with
  `outstanding` for the disbursement condition) and scope `member#<customer_ref>` (key `currency`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.domain.donations import DISBURSEMENT, PLEDGE, REVERSAL, Balance, LedgerEntry
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, cancellation_codes, transaction_connection

ORDER = "order"
# Entry ids join client ids with `#`, which client ids cannot contain (they may contain `:`), so two
# different (order, refund) pairs can never produce the same id.
DISBURSEMENT_LISTING = "disbursement"


class DisbursementListing(GlobalSecondaryIndex["LedgerEntryRecord"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-listing"
        projection = AllProjection()

    listing = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class LedgerEntryRecord(Model):
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
    # Disbursements only: what the brand recorded, and the listing index key.
    listing = UnicodeAttribute(null=True)
    by_listing = DisbursementListing()
    request_hash = UnicodeAttribute(null=True)
    response = UnicodeAttribute(null=True)


class OrderRecord(Model):
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
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute()


class DonationTotalsRecord(Model):
    class Meta(BaseMeta):
        table_name = settings.table_name("donation_totals")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    pledged = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    disbursed = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)
    outstanding = NumberAttribute(default=0)


class DuplicateRecordError(Exception):
    """The natural id was recorded before; read it to answer (same body) or refuse (other body)."""


class StaleOrderError(Exception):
    """The order changed since it was read (a concurrent refund): read again and retry."""


class InsufficientBalanceError(Exception):
    """A disbursement larger than the cause's outstanding balance in that currency."""


class ConcurrentTotalsError(Exception):
    """DynamoDB cancelled the transaction because another one touched the same totals: retry."""


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


def _month_key(entry: LedgerEntry) -> str:
    return f"{entry.period}#{entry.cause_id}#{entry.currency}"


def _totals_updates(
    transaction: TransactWrite,
    entry: LedgerEntry,
    customer_ref: str | None,
    *,
    check_outstanding: bool = False,
) -> None:
    """ADD the entry to its month, all-time (and member) totals inside `transaction`."""
    column = {PLEDGE: DonationTotalsRecord.pledged, REVERSAL: DonationTotalsRecord.reversed}.get(
        entry.kind, DonationTotalsRecord.disbursed
    )
    sign = 1 if entry.kind == PLEDGE else -1
    actions: list[Action] = [column.add(entry.amount), DonationTotalsRecord.orders.add(entry.orders)]
    transaction.update(DonationTotalsRecord("month", _month_key(entry)), actions=actions)
    condition = DonationTotalsRecord.outstanding >= entry.amount if check_outstanding else None
    transaction.update(
        DonationTotalsRecord("all", f"{entry.cause_id}#{entry.currency}"),
        actions=[*actions, DonationTotalsRecord.outstanding.add(sign * entry.amount)],
        condition=condition,
    )
    if customer_ref is not None and entry.kind != DISBURSEMENT:
        transaction.update(
            DonationTotalsRecord(f"member#{customer_ref}", entry.currency),
            actions=[column.add(entry.amount)],
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
    try:
        with TransactWrite(connection=transaction_connection()) as transaction:
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
            raise InsufficientBalanceError() from exc
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
) -> None:
    """The order record and, for a member, its pledge and the totals: all in one transaction."""
    record = OrderRecord(
        order_id, ORDER, request_hash=request_hash, response=json.dumps(response), amount=amount,
        currency=currency, customer_ref=customer_ref, cause_id=pledge.cause_id if pledge else None,
        donation=pledge.amount if pledge else 0, created_at=now,
    )  # fmt: skip

    def items(transaction: TransactWrite) -> None:
        transaction.save(record)  # version condition: the order must not exist yet
        if pledge is not None:
            transaction.save(
                _entry_record(
                    f"pledge#order#{order_id}", pledge, occurred_at, now, customer_ref=customer_ref
                ),
                condition=LedgerEntryRecord.entry_id.does_not_exist(),
            )
            _totals_updates(transaction, pledge, customer_ref)

    _run(items)


def get_order(order_id: str, record: str = ORDER) -> StoredOrder | None:
    try:
        item = OrderRecord.get(order_id, record, consistent_read=True)
    except OrderRecord.DoesNotExist:
        return None
    return StoredOrder(
        order_id=item.order_id, request_hash=item.request_hash, response=json.loads(item.response),
        amount=int(item.amount), donation=int(item.donation), cause_id=item.cause_id,
        customer_ref=item.customer_ref, currency=item.currency, refunded=int(item.refunded),
        reversed=int(item.reversed), version=int(item.version or 0),
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
) -> None:
    """The refund record, the order's new running sums (version-checked) and the reversal, at once."""
    refund = OrderRecord(
        order.order_id, f"refund#{refund_id}", request_hash=request_hash, response=json.dumps(response),
        amount=amount, created_at=now,
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
            transaction.save(
                _entry_record(f"reversal#{order.order_id}#{refund_id}", reversal, now, now,
                              customer_ref=order.customer_ref),
                condition=LedgerEntryRecord.entry_id.does_not_exist(),
            )  # fmt: skip
            _totals_updates(transaction, reversal, order.customer_ref)

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
    _totals_updates(transaction, entry, customer_ref)


def record_disbursement(
    disbursement_id: str,
    entry: LedgerEntry,
    request_hash: str,
    response: dict[str, Any],
    paid_at: datetime,
    now: datetime,
) -> None:
    """The disbursement, if the cause's outstanding balance covers it (a condition, not a read)."""

    def items(transaction: TransactWrite) -> None:
        transaction.save(
            _entry_record(
                f"disbursement#{disbursement_id}", entry, paid_at, now, listing=DISBURSEMENT_LISTING,
                request_hash=request_hash, response=json.dumps(response),
            ),
            condition=LedgerEntryRecord.entry_id.does_not_exist(),
        )  # fmt: skip
        _totals_updates(transaction, entry, None, check_outstanding=True)

    # Items: 0 the entry, 1 the month totals, 2 the all-time totals (carrying the condition).
    _run(items, duplicate_at=0, balance_at=2)


def get_disbursement(disbursement_id: str) -> tuple[str, dict[str, Any]] | None:
    """(request hash, response) of a recorded disbursement."""
    try:
        item = LedgerEntryRecord.get(f"disbursement#{disbursement_id}", consistent_read=True)
    except LedgerEntryRecord.DoesNotExist:
        return None
    return item.request_hash or "", json.loads(item.response or "{}")


def list_disbursements(limit: int, starting_after: str | None) -> tuple[list[dict[str, Any]], bool]:
    """Disbursements by id, one page (cursor = the last disbursement_id seen)."""
    condition = LedgerEntryRecord.entry_id > f"disbursement#{starting_after}" if starting_after else None
    items = list(
        LedgerEntryRecord.by_listing.query(
            DISBURSEMENT_LISTING, range_key_condition=condition, limit=limit + 1
        )
    )
    return [json.loads(item.response or "{}") for item in items[:limit]], len(items) > limit


def outstanding(cause_id: str, currency: str) -> int:
    try:
        item = DonationTotalsRecord.get("all", f"{cause_id}#{currency}", consistent_read=True)
    except DonationTotalsRecord.DoesNotExist:
        return 0
    return int(item.outstanding)


def _balance(item: DonationTotalsRecord) -> Balance:
    return Balance(int(item.pledged), int(item.reversed), int(item.disbursed), int(item.orders))


def monthly_totals(first: str, last: str) -> Iterator[tuple[str, str, str, Balance]]:
    """(period, cause_id, currency, balance) for the months first..last, in key order."""
    for item in DonationTotalsRecord.query(
        "month", DonationTotalsRecord.key.between(f"{first}#", f"{last}#~")
    ):
        period, cause_id, currency = item.key.split("#")
        yield period, cause_id, currency, _balance(item)


def all_time_totals() -> Iterator[tuple[str, str, Balance]]:
    for item in DonationTotalsRecord.query("all"):
        cause_id, currency = item.key.split("#")
        yield cause_id, currency, _balance(item)


def member_totals(customer_ref: str) -> dict[str, Balance]:
    return {item.key: _balance(item) for item in DonationTotalsRecord.query(f"member#{customer_ref}")}


def scan_entries() -> Iterator[tuple[LedgerEntry, str | None]]:
    """Every ledger entry (operators' rebuild of the totals), with its shopper."""
    for item in LedgerEntryRecord.scan():
        yield (
            LedgerEntry(
                item.kind, item.cause_id, item.currency, int(item.amount), item.period, int(item.orders)
            ),
            item.customer_ref,
        )


def replace_totals(
    monthly: dict[tuple[str, str, str], Balance],
    all_time: dict[tuple[str, str], Balance],
    members: dict[tuple[str, str], Balance],
) -> None:
    """Overwrite the totals table with totals recomputed from the ledger (operators only)."""
    with DonationTotalsRecord.batch_write() as batch:
        for item in DonationTotalsRecord.scan():
            batch.delete(item)
    with DonationTotalsRecord.batch_write() as batch:
        for (period, cause_id, currency), b in monthly.items():
            batch.save(
                DonationTotalsRecord(
                    "month",
                    f"{period}#{cause_id}#{currency}",
                    pledged=b.pledged,
                    reversed=b.reversed,
                    disbursed=b.disbursed,
                    orders=b.orders,
                )
            )
        for (cause_id, currency), b in all_time.items():
            batch.save(
                DonationTotalsRecord(
                    "all",
                    f"{cause_id}#{currency}",
                    pledged=b.pledged,
                    reversed=b.reversed,
                    disbursed=b.disbursed,
                    orders=b.orders,
                    outstanding=b.outstanding,
                )
            )
        for (customer_ref, currency), b in members.items():
            batch.save(
                DonationTotalsRecord(
                    f"member#{customer_ref}", currency, pledged=b.pledged, reversed=b.reversed
                )
            )
