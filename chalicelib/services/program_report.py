"""The program report for brand teams: members against non-members, and what the program earns and costs.

Rules in `domain.program`; the counters come pre-aggregated (`store.program`, one Query per shard) and the
donations from the donation totals, so the cost stays flat however many orders there are.
"""

from __future__ import annotations

from chalicelib.domain.membership_report import MAX_MONTHS, MONTH_PATTERN, months_between
from chalicelib.domain.program import ProgramReport, program_report
from chalicelib.errors import ValidationError
from chalicelib.services.reports import donation_report
from chalicelib.store import program as store


def check_range(first: str, last: str) -> None:
    """A report's month range: `from`, `to` as YYYY-MM, in order, at most `MAX_MONTHS` (else 400)."""
    for name, value in (("from", first), ("to", last)):
        if not MONTH_PATTERN.match(value):
            raise ValidationError(f"`{name}` must be a month as YYYY-MM.", param=name)
    if first > last:
        raise ValidationError("`from` is after `to`.", param="from")
    if len(months_between(first, last)) > MAX_MONTHS:
        raise ValidationError(f"At most {MAX_MONTHS} months per report.", param="to")


def build_program_report(first: str, last: str, currency: str | None = None) -> ProgramReport:
    """Rows per month × currency for `first`..`last` (YYYY-MM, both included) and totals per currency."""
    check_range(first, last)
    sums = store.month_sums(first, last)
    donations: dict[tuple[str, str], int] = {}
    for row in donation_report(first, last, currency=currency).data:
        donations[(row.period, row.currency)] = donations.get((row.period, row.currency), 0) + row.net
    return program_report(first, last, sums, donations, currency)
