"""Change stamps (`store/stamps.py`): which stamp a counter item's change bumps, and that a transaction
bumps each stamp item once however many counters it changes (DynamoDB takes one operation per item)."""

from __future__ import annotations

import pytest

from chalicelib.store.program import ProgramRecord
from chalicelib.store.stamps import Stamp, stamp_item, stamp_of_counter
from chalicelib.store.totals import DonationTotalsRecord
from chalicelib.store.transaction import Transaction


@pytest.mark.parametrize(
    ("scope", "key", "stamp"),
    [
        ("month#3", "2026-11#school-meals#usd", Stamp("month", 3, "2026-11")),
        ("all#0", "school-meals#usd", Stamp("all", 0, "all")),
        ("program#7", "2026-12#usd#members#customers#0000-00", Stamp("program", 7, "2026-12")),
        # a cohort's counters change the cohort's month, whatever month the fee, order or move is in
        ("cohort#2", "2025-01#vip-monthly#active#2026-12", Stamp("cohort", 2, "2025-01")),
        ("member#ada", "usd#school-meals", None),
        ("shopper#ada", "history", None),
        ("program#7", "not-a-month#usd", None),
    ],
)
def test_a_counter_item_stamps_its_kind_shard_and_month(scope: str, key: str, stamp: Stamp | None) -> None:
    assert stamp_of_counter(scope, key) == stamp


def test_a_stamp_is_one_number_of_its_shards_item_for_the_year() -> None:
    assert stamp_item(Stamp("month", 3, "2026-11")) == ("stamp#month#3", "2026", "m11")
    assert stamp_item(Stamp("all", 0, "all")) == ("stamp#all#0", "all", "all_time")


def test_a_transaction_adds_one_stamp_item_per_kind_shard_and_year_however_many_counters() -> None:
    tx = Transaction()
    for key in ("2026-11#a#usd", "2026-11#b#usd", "2026-11#a#eur", "2026-12#a#usd"):
        tx.update(DonationTotalsRecord("month#3", key), actions=[DonationTotalsRecord.pledged.add(1)])
    tx.update(DonationTotalsRecord("month#4", "2026-11#a#usd"), actions=[DonationTotalsRecord.pledged.add(1)])
    tx.update(DonationTotalsRecord("member#ada", "usd#a"), actions=[DonationTotalsRecord.pledged.add(1)])
    tx.update(ProgramRecord("program#3", "2026-11#usd#members"), actions=[ProgramRecord.orders.add(1)])
    tx.update(ProgramRecord("shopper#ada", "value#usd"), actions=[ProgramRecord.saved.add(1)])

    # 8 items, and the stamps of (month, 3, 2026), (month, 4, 2026), (program, 3, 2026)
    assert len(tx) == 8 + 3
