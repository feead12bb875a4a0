"""The program report for brand teams: members against non-members, and what the program earns and costs.

Rules in `domain.program`; the counters come pre-aggregated (`store.program`) and the donations from the
donation totals' months, both through their rollups (`store.rollups`: one Query and one BatchGetItem of
their change stamps each), so the cost stays flat however many orders and shards there are.
"""

from __future__ import annotations

from chalicelib.domain.membership_report import MAX_MONTHS, MONTH_PATTERN, months_between
from chalicelib.domain.program import ProgramReport, program_report
from chalicelib.errors import ValidationError
from chalicelib.store import program as store
from chalicelib.store import totals


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
    sums, as_of = store.month_sums(first, last)
    donations: dict[tuple[str, str], int] = {}
    monthly, donations_as_of = totals.monthly_totals(first, last)
    for period, _cause, code, balance in monthly:
        if currency is None or code == currency:
            donations[(period, code)] = donations.get((period, code), 0) + balance.net
    report = program_report(first, last, sums, donations, currency)
    report.as_of = min(as_of, donations_as_of)
    return report
