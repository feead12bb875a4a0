"""Where an entry's sums land in the write-sharded totals: the one rule every write and the rebuild share."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.donations import DISBURSEMENT, PLEDGE, REVERSAL, Balance, LedgerEntry
from chalicelib.store.shards import totals_shards
from chalicelib.store.totals import totals_contributions

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-:.", min_size=1, max_size=40)


@settings(max_examples=200)
@given(order_id=ids, kind=st.sampled_from([PLEDGE, REVERSAL]), amount=st.integers(0, 10**10))
def test_a_pledge_or_reversal_adds_exactly_its_amount_to_its_month_its_all_time_and_its_shopper(
    order_id: str, kind: str, amount: int
) -> None:
    entry = LedgerEntry(kind, "school-meals", "usd", amount, "2026-11", orders=1 if kind == PLEDGE else 0)
    expected = Balance()
    expected.add(entry)

    (month, to_month), (all_time, to_all), (member, to_member) = totals_contributions(
        f"pledge#order#{order_id}", entry, "ada"
    )

    shard = int(month[0].split("#")[1])
    assert shard in totals_shards() and all_time[0] == f"all#{shard}"  # one shard per entry
    assert (month[1], all_time[1], member) == (
        "2026-11#school-meals#usd",
        "school-meals#usd",
        ("member#ada", "usd#school-meals"),
    )
    assert to_month == to_all == expected
    assert to_member == Balance(pledged=expected.pledged, reversed=expected.reversed)


@settings(max_examples=200)
@given(disbursement_id=ids, amount=st.integers(1, 10**10))
def test_every_disbursement_of_a_cause_lands_on_the_one_item_disbursements_check(
    disbursement_id: str, amount: int
) -> None:
    entry = LedgerEntry(DISBURSEMENT, "school-meals", "usd", amount, "2026-11")

    contributions = totals_contributions(f"disbursement#{disbursement_id}", entry, None)

    assert contributions[-1] == (("all#0", "school-meals#usd"), Balance(disbursed=amount))
    assert len(contributions) == 2 and contributions[0][0][0].startswith("month#")


def test_the_orders_of_one_cause_spread_over_every_shard() -> None:
    entry = LedgerEntry(PLEDGE, "school-meals", "usd", 100, "2026-11", orders=1)
    scopes = {totals_contributions(f"pledge#order#o-{n}", entry, None)[0][0][0] for n in range(400)}
    assert scopes == {f"month#{shard}" for shard in totals_shards()}
