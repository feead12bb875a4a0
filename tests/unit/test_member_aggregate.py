"""The member aggregate: which states it keeps, and that each paid invoice is accounted for once."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.donations import PLEDGE
from chalicelib.domain.member import REMEMBERED_INVOICES, Member, PaidInvoice
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot

PAID_AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def invoice(invoice_id: str = "in_1", amount: int = 999) -> PaidInvoice:
    return PaidInvoice(invoice_id, "sub_1", amount, "usd", PAID_AT)


def snapshot(status: str = "active", observed_at: float = 100.0) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id="sub_1", status=status, plan_id="vip-monthly", current_period_start=0,
        current_period_end=2_000_000_000, created=1, observed_at=observed_at,
    )  # fmt: skip


def test_a_paid_invoice_pledges_the_renewal_share_to_the_members_cause() -> None:
    member = Member("ada", cause_id="school-meals")
    pledge = member.record_paid_invoice(invoice(amount=999), 1000, "general-fund")
    assert pledge is not None
    assert pledge.entry_id == "pledge#invoice#in_1"
    assert (pledge.entry.kind, pledge.entry.cause_id, pledge.entry.amount) == (PLEDGE, "school-meals", 100)
    assert (pledge.entry.currency, pledge.entry.period, pledge.occurred_at) == ("usd", "2026-11", PAID_AT)


def test_without_a_chosen_cause_the_default_cause_gets_the_pledge() -> None:
    pledge = Member("ada").record_paid_invoice(invoice(), 1000, "general-fund")
    assert pledge is not None and pledge.entry.cause_id == "general-fund"


def test_the_same_invoice_never_pledges_twice() -> None:
    member = Member("ada")
    assert member.record_paid_invoice(invoice(), 1000, "general-fund") is not None
    assert member.record_paid_invoice(invoice(), 1000, "general-fund") is None
    assert member.paid_invoices == ["in_1"]


def test_an_invoice_pledged_by_the_other_path_is_remembered_without_a_pledge() -> None:
    member = Member("ada")
    assert member.record_paid_invoice(invoice(), 1000, "general-fund", pledged_before=True) is None
    assert member.has_accounted_for("in_1")


def test_free_invoices_and_plans_without_renewal_share_pledge_nothing_but_are_remembered() -> None:
    member = Member("ada")
    assert member.record_paid_invoice(invoice("in_trial", amount=0), 1000, "general-fund") is None
    assert member.record_paid_invoice(invoice("in_2"), 0, "general-fund") is None
    assert member.record_paid_invoice(invoice("in_3"), None, "general-fund") is None
    assert member.paid_invoices == ["in_trial", "in_2", "in_3"]


def test_the_member_remembers_a_bounded_number_of_invoices() -> None:
    member = Member("ada")
    for n in range(REMEMBERED_INVOICES + 5):
        member.record_paid_invoice(invoice(f"in_{n}"), 1000, "general-fund")
    assert len(member.paid_invoices) == REMEMBERED_INVOICES
    assert member.paid_invoices[-1] == f"in_{REMEMBERED_INVOICES + 4}"


@settings(max_examples=200)
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=100_000_000_00), min_size=1, max_size=6),
    bps=st.integers(min_value=0, max_value=10_000),
    deliveries=st.lists(st.integers(min_value=0, max_value=5), max_size=20),
)
def test_pledges_equal_a_simple_model_whatever_the_deliveries(
    amounts: list[int], bps: int, deliveries: list[int]
) -> None:
    """Each invoice, delivered any number of times in any order, pledges round half up(amount × bps / 10⁴)."""
    member = Member("ada")
    pledged: dict[str, int] = {}
    for index in [*deliveries, *range(len(amounts))]:
        if index >= len(amounts):
            continue
        paid = invoice(f"in_{index}", amounts[index])
        pledge = member.record_paid_invoice(paid, bps, "general-fund")
        if pledge is not None:
            assert paid.invoice_id not in pledged
            pledged[paid.invoice_id] = pledge.entry.amount
    for index, amount in enumerate(amounts):
        expected = (2 * amount * bps + 10_000) // 20_000
        assert pledged.get(f"in_{index}", 0) == expected


def test_a_newer_state_is_kept_and_an_older_one_is_not() -> None:
    member = Member("ada", subscriptions=[snapshot(observed_at=100)])
    assert member.observe([snapshot("past_due", observed_at=101)]) is True
    assert member.observe([snapshot("active", observed_at=99)]) is False
    assert member.subscriptions[0].status == "past_due"


def test_a_tie_needs_stripe_but_a_newer_payload_does_not() -> None:
    member = Member("ada", subscriptions=[snapshot(observed_at=100)])
    assert member.needs_fresh_state(snapshot("past_due", observed_at=100)) is True
    assert member.needs_fresh_state(snapshot("past_due", observed_at=101)) is False


def test_nothing_is_read_about_a_subscription_that_has_ended() -> None:
    member = Member("ada", subscriptions=[snapshot("canceled", observed_at=100)])
    assert member.needs_fresh_state(snapshot("active", observed_at=100)) is False


def test_refresh_derives_member_since_and_the_next_reconciliation() -> None:
    member = Member("ada", subscriptions=[snapshot()])
    member.refresh(PAID_AT, AccessPolicy())
    assert member.member_since == datetime.fromtimestamp(1, UTC)
    assert member.reconcile_at == 2_000_000_000 + 3600


def test_a_repeated_delivery_of_the_stored_state_needs_no_stripe_read() -> None:
    member = Member("ada", subscriptions=[snapshot(observed_at=100)])
    assert member.needs_fresh_state(snapshot(observed_at=100)) is False
