"""Orders, refunds and disbursements through the real use cases, on the in-memory unit of work: load →
decide (domain) → one commit, duplicates answered from the failed commit, lost races decided again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from chalicelib import clock
from chalicelib.domain.catalog import Cause, DonationRule, FreeShipping, MemberDiscount, Perks, Plan
from chalicelib.domain.donations import Balance, CauseTotal, MonthTotal, ShopperImpact
from chalicelib.domain.member import Member
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.program import MEMBERS, NON_MEMBERS, Savings
from chalicelib.errors import ConflictError, NotFoundError, ValidationError
from chalicelib.services.donations import (
    DisbursementIn,
    OrderIn,
    RefundIn,
    record_disbursement,
    record_order,
    record_refund,
)
from tests.memory_uow import InMemoryUnitOfWork, MemoryCatalog

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PLAN = Plan(plan_id="vip-monthly", name="VIP", amount=999, currency="usd", interval="month",
            perks=Perks(free_shipping=FreeShipping(), member_discount=MemberDiscount(10)),
            donation=DonationRule(order_bps=200, renewal_bps=1000))  # fmt: skip


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    """A club with one plan, two causes and one active member, `ada`, giving to school meals."""
    catalog = MemoryCatalog(
        {"vip-monthly": PLAN},
        {c: Cause(cause_id=c, name=c) for c in ("general-fund", "school-meals")},
    )
    unit = InMemoryUnitOfWork(catalog)
    active = SubscriptionSnapshot(
        subscription_id="sub_1", status="active", plan_id="vip-monthly", current_period_start=0,
        current_period_end=2_000_000_000, created=1, observed_at=1.0,
    )  # fmt: skip
    unit.tables.members["ada"] = Member("ada", cause_id="school-meals", subscriptions=[active], version=1)
    return unit


def order(order_id: str = "o-1", customer_ref: str = "ada", amount: int = 10_000, **extra: object) -> OrderIn:
    return OrderIn(order_id=order_id, customer_ref=customer_ref, currency="usd", amount=amount, **extra)  # type: ignore[arg-type]


def test_a_members_order_pledges_to_their_cause_in_one_commit(uow: InMemoryUnitOfWork) -> None:
    answer, created = record_order(order(savings=Savings(member_discount=1000, shipping=500)), uow)

    assert created and answer.member
    assert answer.donation is not None and (answer.donation.amount, answer.donation.cause_id) == (
        200,
        "school-meals",
    )
    assert uow.tables.commits == 1
    assert uow.tables.totals[MonthTotal("2026-11", "school-meals", "usd")] == Balance(pledged=200, orders=1)
    assert uow.tables.totals[ShopperImpact("ada", "usd", "school-meals")] == Balance(pledged=200)
    stored = uow.tables.orders["o-1"]
    # The facts a refund needs are the order's own attributes, not its recorded answer.
    assert (stored.member, stored.segment, stored.savings.total, stored.donation) == (
        True,
        MEMBERS,
        1500,
        200,
    )
    [program] = uow.tables.program
    assert (program.movement.revenue, program.saved, len(program.counts)) == (10_000, 1500, 1)


def test_a_guests_order_counts_in_the_non_members_segment_and_pledges_nothing(
    uow: InMemoryUnitOfWork,
) -> None:
    answer, _ = record_order(order(customer_ref="guest"), uow)

    assert (answer.member, answer.donation) == (False, None)
    assert uow.tables.entries == {}
    assert uow.tables.orders["o-1"].segment == NON_MEMBERS


def test_a_non_member_reporting_savings_is_refused_and_nothing_is_written(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(ValidationError) as refused:
        record_order(order(customer_ref="guest", savings=Savings(shipping=500)), uow)

    assert refused.value.param == "savings"
    assert uow.tables.commits == 0 and uow.tables.orders == {}


def test_a_repeated_order_answers_as_the_first_time_and_changes_nothing(uow: InMemoryUnitOfWork) -> None:
    first, _ = record_order(order(), uow)
    again, created = record_order(order(), uow)

    assert (again, created) == (first, False)
    assert uow.tables.commits == 1
    assert uow.tables.totals[CauseTotal("school-meals", "usd")].pledged == 200


def test_the_same_order_id_with_another_body_is_a_conflict(uow: InMemoryUnitOfWork) -> None:
    record_order(order(), uow)
    with pytest.raises(ConflictError) as conflict:
        record_order(order(amount=5000), uow)
    assert conflict.value.code == "order_exists"


def test_a_refund_reverses_the_donations_share_and_gives_savings_back(uow: InMemoryUnitOfWork) -> None:
    record_order(order(savings=Savings(member_discount=1000, shipping=500)), uow)
    answer, created = record_refund("o-1", RefundIn("r-1", 2500), uow)

    assert created and answer.donation_reversed == 50
    stored = uow.tables.orders["o-1"]
    assert (stored.refunded, stored.reversed) == (2500, 50)
    refund = uow.tables.program[-1]
    assert (refund.movement.segment, refund.movement.revenue, refund.saved) == (MEMBERS, -2500, -375)
    assert uow.tables.totals[CauseTotal("school-meals", "usd")] == Balance(pledged=200, reversed=50, orders=1)


def test_refunds_beyond_the_order_are_refused(uow: InMemoryUnitOfWork) -> None:
    record_order(order(), uow)
    record_refund("o-1", RefundIn("r-1", 10_000), uow)

    with pytest.raises(ValidationError) as refused:
        record_refund("o-1", RefundIn("r-2", 1), uow)
    assert refused.value.code == "refund_exceeds_order"
    # A retry of the refund that took the order to its amount still answers as the first time.
    assert record_refund("o-1", RefundIn("r-1", 10_000), uow)[1] is False


def test_a_refund_of_an_unknown_order_is_404(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(NotFoundError):
        record_refund("nope", RefundIn("r-1", 1), uow)


def test_a_refund_that_lost_a_race_is_decided_again_on_the_order_as_it_now_is(
    uow: InMemoryUnitOfWork,
) -> None:
    record_order(order(), uow)
    other = InMemoryUnitOfWork(uow.catalog, uow.tables)
    # Another refund commits between this one's load and its commit.
    uow.before_commit.append(lambda: record_refund("o-1", RefundIn("r-other", 5000), other) and None)

    answer, created = record_refund("o-1", RefundIn("r-1", 5000), uow)

    assert created and answer.donation_reversed == 100
    stored = uow.tables.orders["o-1"]
    assert (stored.refunded, stored.reversed) == (10_000, 200)


def test_a_disbursement_is_refused_beyond_the_outstanding_balance(uow: InMemoryUnitOfWork) -> None:
    record_order(order(), uow)  # 200 pledged to school meals
    body = DisbursementIn(disbursement_id="d-1", cause_id="school-meals", currency="usd", amount=201,
                          paid_at=NOW, reference="wire 1")  # fmt: skip
    with pytest.raises(ConflictError) as refused:
        record_disbursement(body, uow)
    assert refused.value.code == "exceeds_outstanding"

    paid, created = record_disbursement(_with_amount(body, 200), uow)
    assert created and paid.amount == 200
    assert uow.tables.totals[CauseTotal("school-meals", "usd")].outstanding == 0
    assert record_disbursement(_with_amount(body, 200), uow)[1] is False  # a retry answers as the first time


def test_a_payout_that_raced_another_is_decided_again_against_the_new_balance(
    uow: InMemoryUnitOfWork,
) -> None:
    record_order(order(), uow)  # 200 outstanding
    other = InMemoryUnitOfWork(uow.catalog, uow.tables)
    first = DisbursementIn(disbursement_id="d-1", cause_id="school-meals", currency="usd", amount=150,
                           paid_at=NOW, reference="wire 1")  # fmt: skip
    uow.before_commit.append(lambda: record_disbursement(first, other) and None)

    with pytest.raises(ConflictError):
        record_disbursement(_with_amount(first, 100, "d-2"), uow)
    assert uow.tables.totals[CauseTotal("school-meals", "usd")].disbursed == 150


def _with_amount(body: DisbursementIn, amount: int, disbursement_id: str | None = None) -> DisbursementIn:
    return DisbursementIn(
        disbursement_id=disbursement_id or body.disbursement_id, cause_id=body.cause_id, currency=body.currency,
        amount=amount, paid_at=body.paid_at, reference=body.reference,
    )  # fmt: skip
