"""Donation report rows and their CSV rendering (what a finance team reconciles against)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from chalicelib.domain.csv_export import Cell, csv_document
from chalicelib.domain.money import format_decimal

CSV_COLUMNS = [
    "period", "cause_id", "currency", "pledged", "reversed", "net", "disbursed", "orders",
    "pledged_decimal", "reversed_decimal", "net_decimal", "disbursed_decimal",
]  # fmt: skip


class ReportRow(msgspec.Struct):
    period: str
    cause_id: str
    currency: str
    pledged: int
    reversed: int
    net: int
    disbursed: int
    orders: int


class TotalsRow(msgspec.Struct):
    cause_id: str
    currency: str
    net: int
    disbursed: int
    outstanding: int


class DonationReport(msgspec.Struct, omit_defaults=True):
    data: list[ReportRow]
    totals: list[TotalsRow]
    # Every write committed before this moment is counted (the rolled-up totals read, `store.rollups`);
    # omitted where a report is built straight from sums given to it (the domain's own tests).
    as_of: datetime | None = None


def report_csv(rows: list[ReportRow]) -> str:
    """The rows as CSV (see `csv_export`): amounts in minor units and as decimals."""
    return csv_document(CSV_COLUMNS, (_csv_line(row) for row in rows))


def _csv_line(row: ReportRow) -> list[Cell]:
    amounts = (row.pledged, row.reversed, row.net, row.disbursed)
    return [
        row.period, row.cause_id, row.currency, *amounts, row.orders,
        *(format_decimal(amount, row.currency) for amount in amounts),
    ]  # fmt: skip
