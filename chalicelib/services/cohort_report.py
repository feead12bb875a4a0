"""The cohort report: shoppers by the month and plan of their first paid membership, followed since.

Rules in `domain.cohorts`; the counters are kept as memberships start and end and as fees, orders and
refunds happen (`store.program`, read through their rollups: one Query and one BatchGetItem of their change
stamps), so the cost stays flat however many shoppers, orders and shards there are.
"""

from __future__ import annotations

from chalicelib import clock
from chalicelib.domain.cohorts import CohortReport, cohort_report
from chalicelib.domain.times import month_of
from chalicelib.services.program_report import check_range
from chalicelib.store import program as store


def build_cohort_report(first: str, last: str) -> CohortReport:
    """The cohorts of `first`..`last` (YYYY-MM, both included), each followed up to the current month."""
    check_range(first, last)
    sums, as_of = store.cohort_sums(first, last)
    report = cohort_report(first, last, month_of(clock.now()), sums)
    report.as_of = as_of
    return report
