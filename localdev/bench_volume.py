"""`make bench`, report section: each report's DynamoDB calls with 100 and with 10,000 orders stored.

Reports read only pre-aggregated items (write-sharded totals and program counters), so their cost must
not grow with orders. Recording 10,000 orders one transaction at a time takes many minutes against the
local DynamoDB, so the orders are stored in bulk as the items the service writes for them:

- a ledger entry per order (its pledge), spread over 12 months, 3 causes and 500 shoppers;
- the donation totals those entries add up to, by the service's own layout rule
  (`store.totals.totals_contributions`, which the rebuild from the ledger uses too);
- the program counters: each order's money on the item `store.program.movement_item` names, and the
  customer counts `domain.program.count_order` derives from each shopper's history, on `count_item`'s.
- the cohort counters: the members joined one cohort in January, and each member order's revenue is on the
  item `store.program.cohort_money_item` names.

Every report in `REPORTS` is then asked for the whole year, once at 100 and once at 10,000 orders: with
nothing changed since the previous report (its rollups' change stamps unchanged, `store.rollups`) and with
every period changed (every stamp bumped: each period summed from the shards again, what a report costs
after writes into every month it shows).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CAUSES = ("ocean-cleanup", "school-meals", "reforestation")
SHOPPERS = 500
VOLUMES = (100, 10_000)
# Each report measured the same way: (name, path without its query; `from` and `to` span the year).
REPORTS: list[tuple[str, str]] = [
    ("GET /v1/reports/donations", "/v1/reports/donations"),
    ("GET /v1/reports/program", "/v1/reports/program"),
    ("GET /v1/reports/cohorts", "/v1/reports/cohorts"),
]
# Giving transparency, measured the same way with their own queries: what causes are owed (no month range)
# and a cause's public giving record for the year.
GIVING_REPORTS: list[tuple[str, str]] = [
    ("GET /v1/reports/payouts", "/v1/reports/payouts"),
    ("GET /v1/causes/{id}/giving", "/v1/causes/school-meals/giving?from={year}-01&to={year}-12"),
]


@dataclass
class _Bulk:
    """Every item the bulk orders add up to so far (rewritten whole at each volume)."""

    totals: dict[tuple[str, str], Any] = field(default_factory=dict)
    # net pledged per pledge-day item (`store.giving.day_line`)
    days: Counter[tuple[str, str]] = field(default_factory=Counter)
    counters: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    histories: dict[str, Any] = field(default_factory=dict)
    loaded: int = 0


def _add_orders(bulk: _Bulk, target: int, year: int) -> None:
    from chalicelib.domain.cohorts import Cohort
    from chalicelib.domain.donations import PLEDGE, Balance, LedgerEntry, Posting
    from chalicelib.domain.program import (
        MEMBERS,
        NON_MEMBERS,
        CountedOrder,
        Movement,
        Segment,
        ShopperHistory,
        count_order,
    )
    from chalicelib.store import program as program_store
    from chalicelib.store.giving import GivingRecord, day_line, shopper_record
    from chalicelib.store.ledger import LedgerEntryRecord
    from chalicelib.store.stamps import bump_counters
    from chalicelib.store.totals import totals_contributions
    from ops.totals_layout import replace_totals

    now = datetime.now(UTC)
    cohort = Cohort(f"{year}-01", "vip-monthly", "usd")
    joined = ("cohort#0", f"{program_store.cohort_key(cohort)}#joined")
    bulk.counters[joined] = Counter(shoppers=SHOPPERS // 4)
    bulk.counters[("cohort#0", f"{program_store.cohort_key(cohort)}#active#{cohort.month}")] = Counter(
        shoppers=SHOPPERS // 4
    )
    with LedgerEntryRecord.batch_write() as batch, GivingRecord.batch_write() as giving_batch:
        for i in range(bulk.loaded, target):
            order_id, customer_ref = f"volume-{i}", f"volume-shopper-{i % SHOPPERS}"
            month, amount = f"{year}-{1 + i % 12:02d}", 2_000 + i % 50 * 100
            member = i % SHOPPERS < SHOPPERS // 4
            segment: Segment = MEMBERS if member else NON_MEMBERS
            placed = datetime(year, 1 + i % 12, 1 + i % 28, tzinfo=UTC)
            if member:
                entry_id = f"pledge#order#{order_id}"
                entry = LedgerEntry(PLEDGE, CAUSES[i % 3], "usd", amount // 50, month, 1)
                batch.save(LedgerEntryRecord(
                    entry_id, kind=entry.kind, cause_id=entry.cause_id, currency=entry.currency,
                    amount=entry.amount, period=month, orders=1, occurred_at=placed, recorded_at=now,
                    customer_ref=customer_ref,
                ))  # fmt: skip
                for key, balance in totals_contributions(entry_id, entry, customer_ref):
                    bulk.totals.setdefault(key, Balance()).merge(balance)
                posting = Posting(entry_id, entry, placed, customer_ref)
                day = day_line(posting)
                if day is not None:
                    bulk.days[day[0]] += day[1]
                line = shopper_record(posting)
                if line is not None:
                    giving_batch.save(line)
            discount = amount // 10 if member else 0
            movement = Movement(month, "usd", segment, 1, amount, discount, 595 if member else 0)
            sums = bulk.counters.setdefault(program_store.movement_item(order_id, movement), Counter())
            sums.update(
                orders=1, revenue=amount, member_discount=discount, shipping_waived=movement.shipping_waived
            )
            if member:
                cohort_item = program_store.cohort_money_item(order_id, cohort, "usd")
                bulk.counters.setdefault(cohort_item, Counter()).update(fees=0, revenue=amount)
            history = bulk.histories.get(customer_ref, ShopperHistory())
            counted = CountedOrder(order_id, placed, month, "usd", segment)
            bulk.histories[customer_ref], deltas = count_order(history, counted)
            for delta in deltas:
                bulk.counters.setdefault(program_store.count_item(order_id, delta), Counter())[
                    "shoppers"
                ] += delta.delta
    bulk.loaded = target
    replace_totals(bulk.totals)
    with GivingRecord.batch_write() as batch:
        for (day_scope, day_key), net in bulk.days.items():
            batch.save(GivingRecord(day_scope, day_key, net=net))
    with program_store.ProgramRecord.batch_write() as batch:
        for (scope, sort_key), sums in bulk.counters.items():
            record = program_store.ProgramRecord(scope, sort_key)
            for name, value in sums.items():
                setattr(record, name, value)
            batch.save(record)
    # Written in bulk, outside the transactions that stamp them: stamped as `ops.rebuild_totals` does.
    bump_counters(bulk.counters)


STALE = ", every month changed"


def _change_every_period(year: int) -> None:
    """Bump the change stamps of every period of the year, of every kind and shard: what the writes of a busy
    day into each month do to the next report (each period summed from the shards again)."""
    from chalicelib.store.shards import totals_shards
    from chalicelib.store.stamps import ALL, KINDS, Stamp, bump

    periods = [f"{year}-{month:02d}" for month in range(1, 13)]
    bump(
        Stamp(kind, shard, period)
        for kind in KINDS
        for shard in totals_shards()
        for period in ([ALL] if kind == ALL else periods)
    )


def report_calls_by_volume(client: Any, brand_key: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """Per report in `REPORTS`: [(orders stored, DynamoDB calls of one year's report)] at each volume, with
    nothing changed since the previous report, then with every period changed (summed from the shards)."""
    from localdev.dynamodb_calls import counting_dynamodb_calls

    year = datetime.now(UTC).year
    headers = {"Authorization": f"Bearer {brand_key}"}
    bulk = _Bulk()
    calls: dict[str, list[tuple[int, int]]] = {}
    for volume in VOLUMES:
        _add_orders(bulk, volume, year)
        for name, path in REPORTS:
            url = f"{path}?from={year}-01&to={year}-12"
            for label, changed in ((f"{name}{STALE}", True), (name, False)):
                assert client.http.get(url, headers=headers).status_code == 200  # warm caches, rollups
                if changed:
                    _change_every_period(year)
                with counting_dynamodb_calls() as counted:
                    response = client.http.get(url, headers=headers)
                assert response.status_code == 200, response.body
                calls.setdefault(label, []).append((volume, sum(counted.values())))
        for name, path in GIVING_REPORTS:
            url = path.replace("{year}", str(year))
            assert client.http.get(url, headers=headers).status_code == 200  # warm the caches (API key)
            with counting_dynamodb_calls() as counted:
                response = client.http.get(url, headers=headers)
            assert response.status_code == 200, response.body
            calls.setdefault(name, []).append((volume, sum(counted.values())))
    return list(calls.items())


def lines(measured: list[tuple[str, list[tuple[int, int]]]]) -> list[str]:
    """One line per report; `equal` or `GROWS` says whether its cost stayed flat."""
    out = [f"reports of one year (12 months × {len(CAUSES)} causes), DynamoDB calls by orders stored:"]
    for name, figures in measured:
        counts = ", ".join(f"{calls} at {volume:,} orders" for volume, calls in figures)
        verdict = "equal" if len({calls for _, calls in figures}) == 1 else "GROWS"
        out.append(f"  {name:<48} {counts}: {verdict}")
    return out
