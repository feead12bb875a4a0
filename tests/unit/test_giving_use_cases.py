"""Voids, inactive causes and the disbursement event through the real use cases on the in-memory unit of
work (the moto-backed versions are in tests/integration/donations/test_giving.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import clock
from chalicelib.domain.catalog import Cause
from chalicelib.domain.donations import CauseTotal, MonthTotal
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.services.donations import DisbursementIn, record_disbursement, record_order
from chalicelib.services.giving import void_disbursement
from tests.memory_uow import InMemoryUnitOfWork
from tests.unit import test_write_use_cases as club
from tests.unit.test_write_use_cases import NOW, order


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    """The write use cases' club: `ada`, an active member giving to school meals."""
    return club.uow.__wrapped__()  # type: ignore[attr-defined,no-any-return]


def _paid(uow: InMemoryUnitOfWork, amount: int = 150) -> None:
    record_order(order(), uow)  # 200 pledged to school meals
    body = DisbursementIn(disbursement_id="d-1", cause_id="school-meals", currency="usd", amount=amount,
                          paid_at=NOW, reference="wire 1")  # fmt: skip
    record_disbursement(body, uow)


def test_a_void_gives_the_amount_back_and_cannot_be_repeated(uow: InMemoryUnitOfWork) -> None:
    _paid(uow)
    assert uow.tables.totals[CauseTotal("school-meals", "usd")].outstanding == 50

    voided = void_disbursement("d-1", "typed twice", uow)

    assert (voided.status, voided.void_reason, voided.voided_at) == ("voided", "typed twice", NOW)
    assert uow.tables.totals[CauseTotal("school-meals", "usd")].outstanding == 200
    # The payout's own month no longer counts it.
    assert uow.tables.totals[MonthTotal("2026-11", "school-meals", "usd")].disbursed == 0
    commits = uow.tables.commits
    with pytest.raises(ConflictError) as again:
        void_disbursement("d-1", "again", uow)
    assert again.value.code == "disbursement_voided" and uow.tables.commits == commits


def test_voiding_an_unknown_disbursement_is_404(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(NotFoundError):
        void_disbursement("nope", "x", uow)


def test_a_disbursement_is_announced_in_its_own_commit(uow: InMemoryUnitOfWork) -> None:
    _paid(uow)
    (event,) = uow.tables.outbox.values()
    assert (event.type, event.customer_ref, event.sequence) == ("disbursement.recorded", None, None)
    assert event.data["disbursement"]["amount"] == 150


def test_a_member_of_an_inactive_cause_pledges_to_the_default_cause(uow: InMemoryUnitOfWork) -> None:
    uow.catalog.causes_by_id["school-meals"] = Cause(
        cause_id="school-meals", name="School Meals", active=False
    )
    answer, _ = record_order(order(), uow)
    assert answer.donation is not None and answer.donation.cause_id == "general-fund"
