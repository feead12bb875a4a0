"""The donations' running totals (`donation_totals` table): where each line a ledger entry counts in is
stored, and every read of them.

Scope `month#<shard>` (key `YYYY-MM#cause#currency`), scope `all#<shard>` (key `cause#currency`) and
scope `member#<customer_ref>` (key `currency#cause`: a shopper's impact per cause). Which lines an entry
counts in is the domain's rule (`domain.donations.counted_in`); the store only picks the items: the shard
from the entry id (`store/shards.py`), except a cause's all-time `disbursed`, which lives on its shard-0
item only so that a disbursement can condition on one item. Readers sum every shard, through the
periods' rollups (`store.rollups`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactGetError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactGet

from chalicelib.domain.conflicts import BalanceChangedError, BusyError
from chalicelib.domain.donations import (
    DISBURSEMENT,
    VOID,
    Balance,
    CauseBalance,
    CauseTotal,
    LedgerEntry,
    MonthTotal,
    Posting,
    TotalsLine,
    counted_in,
)
from chalicelib.domain.membership_report import months_between
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors, transaction_connection
from chalicelib.store.rollups import Row, ShardQuery, rolled
from chalicelib.store.shards import totals_shard, totals_shards
from chalicelib.store.stamps import ALL, StampedCounters
from chalicelib.store.transaction import Transaction

# A cause's all-time disbursed sum lives on this shard only: shard 0 exists whatever TOTALS_SHARDS is.
PAYOUT_SHARD = 0

TotalsKey = tuple[str, str]  # (scope, key) of a donation_totals item


class DonationTotalsRecord(BaseModel, StampedCounters):
    class Meta(BaseMeta):
        table_name = settings.table_name("donation_totals")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    pledged = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    disbursed = NumberAttribute(default=0)
    orders = NumberAttribute(default=0)


def month_scope(shard: int) -> str:
    return f"month#{shard}"


def all_scope(shard: int) -> str:
    return f"all#{shard}"


def _item_of(entry_id: str, entry: LedgerEntry, line: TotalsLine) -> TotalsKey:
    shard = totals_shard(entry_id)
    if isinstance(line, MonthTotal):
        return month_scope(shard), f"{line.period}#{line.cause_id}#{line.currency}"
    if isinstance(line, CauseTotal):
        # The all-time sum of payouts goes to the one item disbursements check.
        return all_scope(
            PAYOUT_SHARD if entry.kind in (DISBURSEMENT, VOID) else shard
        ), f"{line.cause_id}#{line.currency}"
    return f"member#{line.customer_ref}", f"{line.currency}#{line.cause_id}"


def totals_contributions(
    entry_id: str, entry: LedgerEntry, customer_ref: str | None
) -> list[tuple[TotalsKey, Balance]]:
    """The items an entry adds to, and what it adds to each (used by every write and by the operators'
    rebuild from the ledger, so a rebuild lands every sum on the same item)."""
    return [(_item_of(entry_id, entry, line), delta) for line, delta in counted_in(entry, customer_ref)]


def adds(delta: Balance) -> list[Action]:
    fields = (
        (DonationTotalsRecord.pledged, delta.pledged),
        (DonationTotalsRecord.reversed, delta.reversed),
        (DonationTotalsRecord.disbursed, delta.disbursed),
        (DonationTotalsRecord.orders, delta.orders),
    )
    return [attribute.add(value) for attribute, value in fields if value]


def add_posting_totals(tx: Transaction, posting: Posting, loaded: CauseBalance | None = None) -> None:
    """ADD the posting to its totals items. For a disbursement, `loaded` is the balance it was decided
    on: the payout item must still show what was read (else BalanceChangedError)."""
    for (scope, key), delta in totals_contributions(posting.entry_id, posting.entry, posting.customer_ref):
        condition: Condition | None = None
        if loaded is not None and scope == all_scope(PAYOUT_SHARD) and posting.entry.kind == DISBURSEMENT:
            paid = loaded.balance.disbursed
            condition = DonationTotalsRecord.disbursed == paid
            if paid == 0:
                condition = condition | DonationTotalsRecord.disbursed.does_not_exist()
        tx.update(
            DonationTotalsRecord(scope, key),
            actions=adds(delta),
            condition=condition,
            on_conflict=(lambda _old: BalanceChangedError()) if condition is not None else None,
        )


def balance_of(item: DonationTotalsRecord) -> Balance:
    return Balance(int(item.pledged), int(item.reversed), int(item.disbursed), int(item.orders))


def _summed(items: Iterable[DonationTotalsRecord]) -> Balance:
    total = Balance()
    for item in items:
        total.merge(balance_of(item))
    return total


def cause_balance(cause_id: str, currency: str) -> CauseBalance:
    """The cause's all-time sums in the currency: every shard in one TransactGetItems (a consistent
    snapshot). Cancelled while a transaction writes one of them: BusyError, read again."""
    pair = f"{cause_id}#{currency}"
    with storage_errors():
        try:
            with TransactGet(connection=transaction_connection()) as transaction:
                futures = [
                    transaction.get(DonationTotalsRecord, all_scope(shard), pair) for shard in totals_shards()
                ]
        except TransactGetError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                raise BusyError() from exc
            raise
    items = []
    for future in futures:
        try:
            items.append(future.get())
        except DonationTotalsRecord.DoesNotExist:
            continue
    return CauseBalance(cause_id, currency, _summed(items))


def outstanding(cause_id: str, currency: str) -> int:
    """What the cause is owed in that currency, net of what was paid out."""
    return cause_balance(cause_id, currency).balance.outstanding


_TOTALS_FIELDS = ("pledged", "reversed", "disbursed", "orders")


def _shard_items(scope_of: str) -> ShardQuery:
    """One shard's items of a scope (`month` between two months, `all`), strongly consistent."""

    def query(shard: int, first: str, last: str) -> Iterable[DonationTotalsRecord]:
        condition = (
            DonationTotalsRecord.key.between(f"{first}#", f"{last}#~") if scope_of == "month" else None
        )
        return DonationTotalsRecord.query(f"{scope_of}#{shard}", condition, consistent_read=True)

    return query


def _balances(rows: Iterable[Row]) -> dict[str, Balance]:
    return {
        row.key: Balance(
            int(row.pledged or 0), int(row.reversed or 0), int(row.disbursed or 0), int(row.orders or 0)
        )
        for row in rows
    }


def monthly_totals(first: str, last: str) -> tuple[list[tuple[str, str, str, Balance]], datetime]:
    """(period, cause_id, currency, balance) for the months first..last, in key order, and as of when.

    One Query of the months' rollups (`store.rollups`): the cost grows with causes × months, never
    with orders or shards.
    """
    rows, as_of = rolled("month", months_between(first, last), _shard_items("month"), _TOTALS_FIELDS)
    sums = _balances(rows)
    listed = []
    for key in sorted(sums):
        period, cause_id, currency = key.split("#")
        listed.append((period, cause_id, currency, sums[key]))
    return listed, as_of


def all_time_totals() -> tuple[list[tuple[str, str, Balance]], datetime]:
    """(cause_id, currency, balance) over all time, and as of when: one Query of its rollup."""
    rows, as_of = rolled(ALL, [ALL], _shard_items("all"), _TOTALS_FIELDS)
    sums = _balances(rows)
    listed = []
    for key in sorted(sums):
        cause_id, currency = key.split("#")
        listed.append((cause_id, currency, sums[key]))
    return listed, as_of


def member_totals(customer_ref: str) -> dict[tuple[str, str], Balance]:
    """(currency, cause_id) → what the shopper's orders and fees pledged and reversed there."""
    totals: dict[tuple[str, str], Balance] = {}
    for item in DonationTotalsRecord.query(f"member#{customer_ref}"):
        currency, _, cause_id = item.key.partition("#")
        totals[(currency, cause_id)] = balance_of(item)
    return totals
