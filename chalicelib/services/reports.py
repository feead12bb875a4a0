"""Donation reports, read from the pre-aggregated totals' rollups: two Queries and two BatchGetItems of their
change stamps whatever the number of orders and shards, exact at every read."""

from __future__ import annotations

import re

from chalicelib.domain.reports import DonationReport, ReportRow, TotalsRow
from chalicelib.errors import ValidationError
from chalicelib.store import totals as store

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def donation_report(
    first: str, last: str, cause_id: str | None = None, currency: str | None = None
) -> DonationReport:
    """Rows per month × cause × currency for first..last (`YYYY-MM`), and all-time totals."""
    for name, value in (("from", first), ("to", last)):
        if not _MONTH.match(value):
            raise ValidationError(f"`{name}` must be a month as YYYY-MM.", param=name)
    if first > last:
        raise ValidationError("`from` is after `to`.", param="from")

    def wanted(cause: str, code: str) -> bool:
        return (cause_id is None or cause == cause_id) and (currency is None or code == currency)

    monthly, months_as_of = store.monthly_totals(first, last)
    all_time, all_as_of = store.all_time_totals()
    rows = [
        ReportRow(period, cause, code, b.pledged, b.reversed, b.net, b.disbursed, b.orders)
        for period, cause, code, b in monthly
        if wanted(cause, code)
    ]
    totals = [
        TotalsRow(cause, code, b.net, b.disbursed, b.outstanding)
        for cause, code, b in all_time
        if wanted(cause, code)
    ]
    rows.sort(key=lambda r: (r.period, r.cause_id, r.currency))
    totals.sort(key=lambda t: (t.cause_id, t.currency))
    return DonationReport(data=rows, totals=totals, as_of=min(months_as_of, all_as_of))
