"""The giving rules: which pledges payouts cover, the impact statement, payout obligations, voids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.catalog import Cause
from chalicelib.domain.donations import DISBURSEMENT, PLEDGE, REVERSAL, VOID, Balance, LedgerEntry
from chalicelib.domain.giving import (
    DISBURSED,
    PLEDGED,
    CauseLedger,
    Payout,
    ShopperEntry,
    first_uncovered_day,
    impact_statement,
    payout_obligation,
    pledge_cause,
    source_of,
    void_entry,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _entry(
    entry_id: str, kind: str, amount: int, at: datetime, pledge_at: datetime | None = None
) -> ShopperEntry:
    day = (pledge_at or at).strftime("%Y-%m-%d")
    return ShopperEntry(entry_id, kind, "meals", "usd", amount, at, day)


def _payout(payout_id: str, amount: int, at: datetime) -> Payout:
    return Payout(payout_id, "meals", "usd", amount, at, f"https://example.org/{payout_id}.pdf")


def test_sources_are_read_from_the_entry_ids() -> None:
    assert source_of("pledge#order#o-1") == {"order_id": "o-1"}
    assert source_of("pledge#invoice#in_1") == {"invoice_id": "in_1"}
    assert source_of("pledge#gift#g-7") == {"gift_id": "g-7"}
    assert source_of("reversal#o-1#r-2") == {"order_id": "o-1"}


def test_payouts_cover_the_oldest_pledge_days_first() -> None:
    days = {"2026-03-02": 150, "2026-04-10": 100, "2026-05-01": 100}
    assert first_uncovered_day(days, 0) == "2026-03-02"
    assert first_uncovered_day(days, 149) == "2026-03-02"
    assert first_uncovered_day(days, 150) == "2026-04-10"
    assert first_uncovered_day(days, 349) == "2026-05-01"
    assert first_uncovered_day(days, 350) is None


def test_a_fully_reversed_day_owes_nothing() -> None:
    assert first_uncovered_day({"2026-03-02": 0, "2026-04-10": 100}, 0) == "2026-04-10"


def test_a_members_year_lists_every_pledge_and_reversal_with_its_status() -> None:
    entries = [
        _entry("pledge#invoice#in_1", PLEDGE, 100, T0 - timedelta(days=1)),
        _entry("pledge#order#o-1", PLEDGE, 200, T0),
        _entry("pledge#order#o-2", PLEDGE, 100, T0 + timedelta(days=39)),
        _entry("reversal#o-1#r-1", REVERSAL, 50, T0 + timedelta(days=40), pledge_at=T0),
        _entry("pledge#gift#g-1", PLEDGE, 75, T0 + timedelta(days=41)),
        _entry("pledge#order#o-old", PLEDGE, 999, datetime(2025, 12, 31, 23, 0, tzinfo=UTC)),
    ]
    # The cause's other shoppers pledged 30 on 2026-03-01 as well: payouts of 280 cover 03-01 and 03-02.
    days = {"2025-12-31": 999, "2026-03-01": 130, "2026-03-02": 150, "2026-04-10": 100, "2026-04-12": 75}
    ledger = CauseLedger(days, [_payout("p-2", 280, T0 + timedelta(days=2)), _payout("p-1", 999, T0)])
    statement = impact_statement(entries, 2026, {("meals", "usd"): ledger})

    assert [(line.source, line.kind, line.amount, line.status) for line in statement.lines] == [
        ({"invoice_id": "in_1"}, PLEDGE, 100, DISBURSED),
        ({"order_id": "o-1"}, PLEDGE, 200, DISBURSED),
        ({"order_id": "o-2"}, PLEDGE, 100, PLEDGED),
        ({"order_id": "o-1"}, REVERSAL, 50, DISBURSED),
        ({"gift_id": "g-1"}, PLEDGE, 75, PLEDGED),
    ]
    (total,) = statement.totals
    assert (total.pledged, total.reversed, total.net) == (475, 50, 425)
    # p-1 (999) paid 2025's day; p-2 (280) the two March days.
    assert [p.disbursement_id for p in statement.payouts] == ["p-2"]


def test_a_year_without_giving_has_no_lines_and_no_totals() -> None:
    statement = impact_statement([_entry("pledge#order#o-1", PLEDGE, 10, T0)], 2025, {})
    assert statement.lines == [] and statement.totals == [] and statement.payouts == []


def test_payouts_owed_since_the_oldest_uncovered_day_and_overdue_past_the_due_days() -> None:
    days = {"2026-03-02": 150, "2026-04-10": 100}
    at_90 = datetime(2026, 7, 9, 12, tzinfo=UTC)
    owed = payout_obligation("meals", "usd", 100, days, 150, at_90, 90)
    assert owed.oldest_undisbursed_at == datetime(2026, 4, 10, tzinfo=UTC)
    assert (owed.days_outstanding, owed.overdue) == (90, False)
    later = payout_obligation("meals", "usd", 100, days, 150, at_90 + timedelta(days=1), 90)
    assert (later.days_outstanding, later.overdue) == (91, True)
    paid = payout_obligation("meals", "usd", 0, days, 250, at_90, 90)
    assert (paid.outstanding, paid.oldest_undisbursed_at, paid.overdue) == (0, None, False)


def test_a_void_gives_the_amount_back_in_the_payouts_month() -> None:
    paid = LedgerEntry(DISBURSEMENT, "meals", "usd", 1250, "2026-11")
    balance = Balance(pledged=2000)
    balance.add(paid)
    assert balance.outstanding == 750
    balance.add(void_entry(paid))
    assert (balance.disbursed, balance.outstanding) == (0, 2000)
    assert void_entry(paid) == LedgerEntry(VOID, "meals", "usd", 1250, "2026-11")


def test_an_inactive_cause_sends_new_pledges_to_the_default_cause() -> None:
    causes = {
        "meals": Cause(cause_id="meals", name="Meals", active=False),
        "trees": Cause(cause_id="trees", name="Trees"),
    }
    assert pledge_cause("meals", causes, "general") == "general"
    assert pledge_cause("trees", causes, "general") == "trees"
    assert pledge_cause(None, causes, "general") == "general"


# --- property: random pledges, reversals, disbursements and voids --------------------------------------

_steps = st.lists(
    st.tuples(
        st.sampled_from(["pledge", "reverse", "disburse", "void"]),
        st.integers(min_value=0, max_value=40),  # day offset
        st.integers(min_value=1, max_value=5_000),
        st.booleans(),  # the shopper's own (else another shopper's)
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_steps)
def test_statement_lines_sum_to_totals_and_disbursed_lines_never_exceed_payouts(steps: list) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    days: dict[str, int] = {}
    pledges: list[tuple[str, int, datetime, bool]] = []  # (id, amount left, at, mine)
    mine: list[ShopperEntry] = []
    payouts: list[Payout] = []
    for n, (kind, offset, amount, own) in enumerate(steps):
        at = base + timedelta(days=offset, minutes=n)
        outstanding = sum(days.values()) - sum(p.amount for p in payouts)
        if kind == "pledge":
            pledges.append((f"pledge#order#o-{n}", amount, at, own))
            days[at.strftime("%Y-%m-%d")] = days.get(at.strftime("%Y-%m-%d"), 0) + amount
            if own:
                mine.append(_entry(f"pledge#order#o-{n}", PLEDGE, amount, at))
        elif kind == "reverse" and pledges:
            index = amount % len(pledges)
            pledge_id, left, pledged_at, own_pledge = pledges[index]
            taken = min(left, amount)
            if taken == 0:
                continue
            pledges[index] = (pledge_id, left - taken, pledged_at, own_pledge)
            days[pledged_at.strftime("%Y-%m-%d")] -= taken
            if own_pledge:
                order_id = pledge_id.rsplit("#", 1)[1]
                mine.append(_entry(f"reversal#{order_id}#r-{n}", REVERSAL, taken, at, pledge_at=pledged_at))
        elif kind == "disburse" and outstanding > 0:
            payouts.append(_payout(f"d-{n}", min(amount, outstanding), at))
        elif kind == "void" and payouts:
            payouts.pop(amount % len(payouts))
    ledger = CauseLedger(days, payouts)
    statement = impact_statement(mine, 2026, {("meals", "usd"): ledger})

    pledged = sum(line.amount for line in statement.lines if line.kind == PLEDGE)
    reversed_ = sum(line.amount for line in statement.lines if line.kind == REVERSAL)
    if statement.lines:
        (total,) = statement.totals
        assert (total.pledged, total.reversed, total.net) == (pledged, reversed_, pledged - reversed_)
    else:
        assert statement.totals == []
    disbursed_net = sum(
        line.amount if line.kind == PLEDGE else -line.amount
        for line in statement.lines
        if line.status == DISBURSED
    )
    assert disbursed_net <= ledger.disbursed
    # A reversal shares its pledge's status.
    status_of = {(line.source["order_id"], line.kind): line.status for line in statement.lines}
    for (order_id, kind), status in status_of.items():
        if kind == REVERSAL:
            assert status == status_of[(order_id, PLEDGE)]
