"""The cohort report equals a recomputation from what happened: memberships, fees, orders and refunds through
the real use cases on the in-memory unit of work, many examples (one HTTP case runs in
`tests/integration/program/test_cohorts.py`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import clock
from chalicelib.domain.catalog import Cause, DonationRule, Plan
from chalicelib.domain.cohorts import cohort_report
from tests.cohort_timeline import FEE, PRICES, YEARLY, Timeline, play
from tests.memory_uow import InMemoryUnitOfWork, MemoryCatalog, Tables

START = datetime(2026, 1, 3, 9, 30, tzinfo=UTC)
REPORT_MONTH = "2026-07"
CATALOG = MemoryCatalog(
    {
        "vip-monthly": Plan(plan_id="vip-monthly", name="VIP Monthly", amount=FEE, currency="usd", interval="month",
                            donation=DonationRule(order_bps=200, renewal_bps=1000)),
        "vip-yearly": Plan(plan_id="vip-yearly", name="VIP Yearly", amount=YEARLY, currency="usd", interval="year",
                           donation=DonationRule(order_bps=300, renewal_bps=1000)),
    },
    {"general-fund": Cause(cause_id="general-fund", name="General Fund")},
)  # fmt: skip
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["ada", "bob", "cy"]),
        st.sampled_from(["join", "join", "renew", "cancel", "order", "order", "refund", "replay"]),
        st.sampled_from(sorted(PRICES)),
        # days after the previous step: every step is a later moment (Stripe's states of one second tie)
        st.integers(0, 18),
        st.integers(1, 20_000),
    ),
    min_size=1,
    max_size=14,
)


@pytest.fixture(autouse=True)
def real_clock_afterwards() -> Iterator[None]:
    yield
    clock.set_clock(None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS, st.sampled_from(["2026-01", "2026-03", "2026-06"]))
def test_the_cohort_report_equals_a_recomputation_from_what_happened(
    steps: list[tuple[str, str, str, int, int]], first: str
) -> None:
    tables = Tables()
    timeline = Timeline(lambda: InMemoryUnitOfWork(CATALOG, tables))
    play(timeline, steps, START)

    report = cohort_report(first, REPORT_MONTH, REPORT_MONTH, tables.cohort_sums(first, REPORT_MONTH))
    assert msgspec.to_builtins(report.data) == timeline.model.report(first, REPORT_MONTH, REPORT_MONTH)


def test_a_repeated_invoice_counts_its_fee_once() -> None:
    tables = Tables()
    timeline = Timeline(lambda: InMemoryUnitOfWork(CATALOG, tables))
    timeline.join("ada", "vip-monthly", START)  # pays, then the same invoice.paid again

    [row] = msgspec.to_builtins(
        cohort_report("2026-01", "2026-01", "2026-01", tables.cohort_sums("2026-01", "2026-01")).data
    )
    assert (row["joined"], row["fees"]) == (1, FEE)
    assert len(tables.fees) == 1
