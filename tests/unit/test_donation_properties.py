"""Properties of the donation math for any sequence of orders, partial refunds and disbursements."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.donations import (
    DISBURSEMENT,
    PLEDGE,
    REVERSAL,
    Balance,
    LedgerEntry,
    fold,
    order_pledge,
    reversed_after_refunds,
)
from chalicelib.domain.money import format_decimal
from chalicelib.domain.reports import CSV_COLUMNS, ReportRow, report_csv

CAUSES = ["general-fund", "school-meals", 'trees, "planted"']
CURRENCIES = ["usd", "eur", "jpy"]
PERIODS = ["2026-01", "2026-02", "2026-03"]

amounts = st.integers(min_value=1, max_value=10_000_000)
bps = st.integers(min_value=0, max_value=10_000)


def _refund_split(draw: st.DrawFn, amount: int) -> list[int]:
    """Partial refunds of an order whose total never exceeds its amount (possibly all of it)."""
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=amount), max_size=5)))
    if draw(st.booleans()):
        cuts.append(amount)
    totals = sorted(set(cuts))
    return [b - a for a, b in zip([0, *totals], totals, strict=False)]


@st.composite
def order_with_refunds(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    amount = draw(amounts)
    return amount, draw(bps), _refund_split(draw, amount)


def reversal_increments(donation: int, amount: int, refunds: list[int]) -> list[int]:
    """What each refund reverses: the new total reversed minus what earlier refunds reversed."""
    increments, refunded, reversed_so_far = [], 0, 0
    for refund in refunds:
        refunded += refund
        total = reversed_after_refunds(donation, amount, refunded)
        increments.append(total - reversed_so_far)
        reversed_so_far = total
    return increments


@given(order_with_refunds())
def test_reversals_are_never_negative_and_never_exceed_the_donation(case: tuple[int, int, list[int]]) -> None:
    amount, order_bps, refunds = case
    donation = order_pledge(amount, order_bps)
    increments = reversal_increments(donation, amount, refunds)
    assert all(step >= 0 for step in increments)
    assert sum(increments) <= donation
    if sum(refunds) == amount:
        assert sum(increments) == donation


@given(amounts, bps, st.integers(min_value=2, max_value=20))
def test_a_full_refund_in_any_number_of_equal_parts_reverses_exactly_the_donation(
    amount: int, order_bps: int, parts: int
) -> None:
    donation = order_pledge(amount * parts, order_bps)
    assert sum(reversal_increments(donation, amount * parts, [amount] * parts)) == donation


@given(amounts, bps)
def test_the_pledge_is_the_exact_share_rounded_half_up(amount: int, order_bps: int) -> None:
    donation = order_pledge(amount, order_bps)
    assert abs(donation * 10_000 - amount * order_bps) <= 5_000
    # Half rounds up: the exact share 0.5 away from two integers goes to the larger one.
    if (amount * order_bps) % 10_000 == 5_000:
        assert donation * 10_000 == amount * order_bps + 5_000


@dataclass
class Workload:
    entries: list[LedgerEntry]
    # Per order: (cause, currency, donation, what its refunds reversed, refunded in full?)
    orders: list[tuple[str, str, int, list[int], bool]]


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    """Orders, their partial refunds and disbursements interleaved as a brand would see them.

    A disbursement is at most the outstanding balance at the moment it is recorded, as the
    service's conditional write enforces.
    """
    entries: list[LedgerEntry] = []
    orders: list[tuple[str, str, int, list[int], bool]] = []
    running: dict[tuple[str, str], Balance] = {}
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        cause, currency = draw(st.sampled_from(CAUSES)), draw(st.sampled_from(CURRENCIES))
        amount, order_bps, refunds = draw(order_with_refunds())
        donation = order_pledge(amount, order_bps)
        balance = running.setdefault((cause, currency), Balance())
        pledge = LedgerEntry(PLEDGE, cause, currency, donation, draw(st.sampled_from(PERIODS)), orders=1)
        entries.append(pledge)
        balance.add(pledge)
        increments = reversal_increments(donation, amount, refunds)
        orders.append((cause, currency, donation, increments, sum(refunds) == amount))
        for step in increments:
            reversal = LedgerEntry(REVERSAL, cause, currency, step, draw(st.sampled_from(PERIODS)))
            entries.append(reversal)
            balance.add(reversal)
        if balance.outstanding > 0 and draw(st.booleans()):
            paid = draw(st.integers(min_value=1, max_value=balance.outstanding))
            disbursement = LedgerEntry(DISBURSEMENT, cause, currency, paid, draw(st.sampled_from(PERIODS)))
            entries.append(disbursement)
            balance.add(disbursement)
    return Workload(entries, orders)


@given(workloads())
def test_per_cause_and_currency_net_is_pledged_minus_reversed_and_outstanding_stays_non_negative(
    workload: Workload,
) -> None:
    totals = fold(workload.entries)
    for (cause, currency), balance in totals.all_time.items():
        mine = [e for e in workload.entries if (e.cause_id, e.currency) == (cause, currency)]
        pledged = sum(e.amount for e in mine if e.kind == PLEDGE)
        reversed_ = sum(e.amount for e in mine if e.kind == REVERSAL)
        disbursed = sum(e.amount for e in mine if e.kind == DISBURSEMENT)
        assert (balance.pledged, balance.reversed, balance.disbursed) == (pledged, reversed_, disbursed)
        assert balance.net == pledged - reversed_
        assert balance.outstanding == balance.net - disbursed
        # Each order's refunds come before the next payout and reverse only that order's pledge, and a
        # payout never exceeds the outstanding balance: what is owed never goes below zero.
        assert balance.outstanding >= 0
        assert reversed_ <= pledged


@given(workloads())
def test_the_monthly_totals_add_up_to_the_all_time_totals(workload: Workload) -> None:
    totals = fold(workload.entries)
    for (cause, currency), balance in totals.all_time.items():
        months = [b for (_, c, k), b in totals.monthly.items() if (c, k) == (cause, currency)]
        assert sum(b.pledged for b in months) == balance.pledged
        assert sum(b.reversed for b in months) == balance.reversed
        assert sum(b.disbursed for b in months) == balance.disbursed
        assert sum(b.orders for b in months) == balance.orders


@given(workloads())
def test_fully_refunded_orders_net_zero_and_the_net_is_the_sum_of_what_each_order_kept(
    workload: Workload,
) -> None:
    kept: dict[tuple[str, str], int] = {}
    for cause, currency, donation, increments, full in workload.orders:
        assert sum(increments) <= donation
        if full:
            assert donation - sum(increments) == 0
        kept[(cause, currency)] = kept.get((cause, currency), 0) + donation - sum(increments)
    totals = fold(workload.entries)
    assert {key: balance.net for key, balance in totals.all_time.items()} == kept


@given(order_with_refunds(), st.sampled_from(CURRENCIES))
def test_an_order_refunded_in_full_nets_zero_in_the_ledger(
    case: tuple[int, int, list[int]], currency: str
) -> None:
    amount, order_bps, refunds = case
    refunds = [*refunds, amount - sum(refunds)] if sum(refunds) < amount else refunds
    donation = order_pledge(amount, order_bps)
    entries = [LedgerEntry(PLEDGE, "general-fund", currency, donation, "2026-01", orders=1)]
    entries += [
        LedgerEntry(REVERSAL, "general-fund", currency, step, "2026-02")
        for step in reversal_increments(donation, amount, refunds)
    ]
    balance = fold(entries).all_time[("general-fund", currency)]
    assert (balance.pledged, balance.net, balance.orders) == (donation, 0, 1)


report_rows = st.builds(
    ReportRow,
    period=st.sampled_from(PERIODS),
    cause_id=st.sampled_from([*CAUSES, "line\r\nbreak"]),
    currency=st.sampled_from(CURRENCIES),
    pledged=st.integers(min_value=0, max_value=10**12),
    reversed=st.integers(min_value=0, max_value=10**12),
    net=st.integers(min_value=-(10**12), max_value=10**12),
    disbursed=st.integers(min_value=0, max_value=10**12),
    orders=st.integers(min_value=0, max_value=10**6),
)


@given(st.lists(report_rows, max_size=20))
def test_the_csv_reads_back_as_the_same_rows_with_decimal_columns(rows: list[ReportRow]) -> None:
    text = report_csv(rows)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == CSV_COLUMNS
    assert len(parsed) == len(rows) + 1
    for row, line in zip(rows, parsed[1:], strict=True):
        record = dict(zip(CSV_COLUMNS, line, strict=True))
        assert (record["period"], record["cause_id"], record["currency"]) == (
            row.period,
            row.cause_id,
            row.currency,
        )
        for column in ("pledged", "reversed", "net", "disbursed"):
            assert int(record[column]) == getattr(row, column)
            assert record[f"{column}_decimal"] == format_decimal(getattr(row, column), row.currency)
        assert int(record["orders"]) == row.orders
    assert text.endswith("\r\n")
