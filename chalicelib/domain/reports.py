"""Donation report rows and their CSV rendering (what a finance team reconciles against)."""

from __future__ import annotations

import csv
import io

import msgspec

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


class DonationReport(msgspec.Struct):
    data: list[ReportRow]
    totals: list[TotalsRow]


def report_csv(rows: list[ReportRow]) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted when needed): amounts in minor units and as decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.period,
                row.cause_id,
                row.currency,
                row.pledged,
                row.reversed,
                row.net,
                row.disbursed,
                row.orders,
            ]
            + [
                format_decimal(amount, row.currency)
                for amount in (row.pledged, row.reversed, row.net, row.disbursed)
            ]
        )
    return buffer.getvalue()
