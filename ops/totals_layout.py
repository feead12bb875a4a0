"""Operators' access to the donation totals: recompute them from the ledger, replace them, and move items
written in earlier key layouts into the current one (`python -m ops.rebuild_totals`).

Never deployed: these scans and batch writes run from an operator's machine, against a stage.
"""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import UpdateError

from chalicelib.domain.donations import DISBURSEMENT, Balance, LedgerEntry
from chalicelib.store.base import storage_errors
from chalicelib.store.ledger import LedgerEntryRecord, listing_order
from chalicelib.store.members import MemberRecord, reconcile_key
from chalicelib.store.orders import ORDER, OrderRecord, to_order
from chalicelib.store.stamps import bump_counters
from chalicelib.store.totals import (
    PAYOUT_SHARD,
    DonationTotalsRecord,
    TotalsKey,
    adds,
    all_scope,
    balance_of,
    month_scope,
    totals_contributions,
)
from chalicelib.store.transaction import Transaction

# The layout before write sharding: one `month` and one `all` partition for the whole store.
LEGACY_SCOPES = {"month": month_scope(PAYOUT_SHARD), "all": all_scope(PAYOUT_SHARD)}
# The earlier layout filed every shopper under this one reconcile key.
LEGACY_RECONCILE_KEY = "due"


class _MovedMeanwhileError(Exception):
    """Another run moved the item first."""


def scan_entries() -> Iterator[tuple[str, LedgerEntry, str | None]]:
    """Every ledger entry: its id, the entry and its shopper."""
    for item in LedgerEntryRecord.scan():
        yield (
            item.entry_id,
            LedgerEntry(
                item.kind, item.cause_id, item.currency, int(item.amount), item.period, int(item.orders)
            ),
            item.customer_ref,
        )


def recomputed_totals() -> dict[TotalsKey, Balance]:
    """The totals items as the ledger says they should be."""
    expected: dict[TotalsKey, Balance] = {}
    for entry_id, entry, customer_ref in scan_entries():
        for key, delta in totals_contributions(entry_id, entry, customer_ref):
            expected.setdefault(key, Balance()).merge(delta)
    return expected


def stored_totals() -> dict[TotalsKey, Balance]:
    """Every totals item as it is stored, whatever its layout."""
    return {(item.scope, item.key): balance_of(item) for item in DonationTotalsRecord.scan()}


def replace_totals(expected: dict[TotalsKey, Balance]) -> None:
    """Overwrite the totals table with totals recomputed from the ledger, then bump the change stamps of every
    period written (outside a transaction: after the writes, so a report summed meanwhile is summed again)."""
    written: list[TotalsKey] = []
    with DonationTotalsRecord.batch_write() as batch:
        for item in DonationTotalsRecord.scan():
            if (item.scope, item.key) not in expected:
                batch.delete(item)
                written.append((item.scope, item.key))
        for (scope, key), b in expected.items():
            batch.save(
                DonationTotalsRecord(
                    scope, key, pledged=b.pledged, reversed=b.reversed, disbursed=b.disbursed, orders=b.orders
                )
            )
            written.append((scope, key))
    bump_counters(written)


def logical_totals(items: dict[TotalsKey, Balance]) -> dict[TotalsKey, Balance]:
    """Totals items summed per what they count, whatever shard (or earlier layout) holds them:
    ("month", "YYYY-MM#cause#currency"), ("all", "cause#currency") and ("member#<ref>", "currency#cause")."""
    sums: dict[TotalsKey, Balance] = {}
    for (scope, key), balance in items.items():
        kind = scope.split("#", 1)[0]
        logical = (kind, key) if kind in LEGACY_SCOPES else (scope, key)
        sums.setdefault(logical, Balance()).merge(balance)
    return sums


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


def _move(item: DonationTotalsRecord, shares: dict[TotalsKey, Balance]) -> bool:
    """Delete `item` (it must still exist) and ADD each share to its item, in one transaction; False when
    another run moved it first."""
    tx = Transaction()
    tx.delete(
        DonationTotalsRecord(item.scope, item.key),
        condition=DonationTotalsRecord.key.exists(),
        on_conflict=lambda _old: _MovedMeanwhileError(),
    )
    for (scope, key), share in shares.items():
        add = adds(share)
        if add:
            tx.update(DonationTotalsRecord(scope, key), actions=add)
    try:
        tx.commit()
    except _MovedMeanwhileError:
        return False
    return True


def move_legacy_totals() -> int:
    """Move totals written in the unsharded layout onto shard 0 of the current one; returns how many.

    Each item moves in one transaction (delete it, ADD its sums to the new item), so the move is safe
    while orders are being recorded and can be run again after an interruption.
    """
    moved = 0
    for scope, target in LEGACY_SCOPES.items():
        for item in DonationTotalsRecord.query(scope):
            moved += _move(item, {(target, item.key): balance_of(item)})
    return moved


def move_legacy_member_totals() -> int:
    """Split each shopper's per-currency item of the earlier layout into its per-cause items; returns
    how many moved.

    The old item's share of each cause is what the ledger holds for the shopper there minus what the
    per-cause items already hold (orders recorded since the change). An item is moved only when those
    shares add up to it exactly (else it is left as it is and the comparison reports it).
    """
    legacy = [item for item in DonationTotalsRecord.scan() if is_legacy_member_key(item.scope, item.key)]
    if not legacy:
        return 0
    ledger_sums = {key: b for key, b in recomputed_totals().items() if key[0].startswith("member#")}
    moved = 0
    for item in legacy:
        stored = {
            (other.scope, other.key): balance_of(other)
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
        if summed != balance_of(item):
            continue
        moved += _move(item, shares)
    return moved


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
                LedgerEntryRecord.listing_order.set(listing_order(item.recorded_at, disbursement_id)),
            ],
            condition=LedgerEntryRecord.listing_order.does_not_exist(),
        )
        moved += 1
    return moved


def move_legacy_reconcile_keys() -> int:
    """File shoppers still under the earlier single reconcile key under their bucket; returns how many."""
    moved = 0
    for hit in MemberRecord.by_reconcile_at.query(LEGACY_RECONCILE_KEY):
        record = MemberRecord(hit.customer_ref)
        with storage_errors():
            try:
                record.update(
                    actions=[MemberRecord.reconcile_shard.set(reconcile_key(hit.customer_ref))],
                    condition=MemberRecord.reconcile_shard == LEGACY_RECONCILE_KEY,
                    add_version_condition=False,
                )
            except UpdateError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue  # written meanwhile, and filed under its bucket by that write
                raise
        moved += 1
    return moved


def move_order_facts() -> int:
    """Copy the member flag and savings of orders recorded before they were attributes of the order record
    (they were only in its recorded answer) onto the record; returns how many."""
    moved = 0
    for item in OrderRecord.scan(OrderRecord.member.does_not_exist() & (OrderRecord.record == ORDER)):
        order = to_order(item)  # reads the facts from the recorded answer
        with storage_errors():
            try:
                item.update(
                    actions=[
                        OrderRecord.member.set(order.member),
                        OrderRecord.member_discount.set(order.savings.member_discount),
                        OrderRecord.shipping.set(order.savings.shipping),
                    ],
                    condition=OrderRecord.member.does_not_exist(),
                    add_version_condition=False,
                )
            except UpdateError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
        moved += 1
    return moved
