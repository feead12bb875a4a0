"""The impact statement as a printable page: plain HTML with print CSS, every value escaped. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from chalicelib.domain.giving import DISBURSED, Statement
from chalicelib.domain.money import format_decimal

PAGE_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;color:#111;max-width:48rem;margin:2rem auto;padding:0 1rem}"
    "h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ccc}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#555}"
    "@media print{body{margin:0;max-width:none;font-size:11pt}.note{display:none}a{color:#111}"
    "a[href]::after{content:' (' attr(href) ')';font-size:9pt}tr{break-inside:avoid}}"
)
SOURCES = {"order_id": "Order", "invoice_id": "Membership fee", "gift_id": "Gift"}


def _amount(minor: int, currency: str) -> str:
    return f"{format_decimal(minor, currency)} {currency.upper()}"


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """Headers ending in `#` are right-aligned amounts; cells are HTML already escaped."""
    numeric = [h.endswith("#") for h in headers]
    head = "".join(
        f"<th{' class=n' if n else ''}>{escape(h.rstrip('#'))}</th>"
        for h, n in zip(headers, numeric, strict=True)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if n else ''}>{c}</td>" for c, n in zip(row, numeric, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def statement_page(customer_ref: str, year: int, statement: Statement, cause_names: Mapping[str, str]) -> str:
    """The statement's lines, totals and the payouts that covered them, as one printable HTML page."""

    def name(cause_id: str) -> str:
        return escape(cause_names.get(cause_id, cause_id))

    def receipt(url: str | None) -> str:
        return f'<a href="{escape(url)}">Receipt</a>' if url else "—"

    parts = [
        f"<h1>Giving statement {year}</h1>",
        f"<p>For {escape(customer_ref)}: what your membership pledged, and whether it was paid.</p>",
        "<p class=note>Use your browser's Print command to print this page or save it as PDF.</p>",
    ]
    if not statement.lines:
        parts.append(f"<p>No donations in {year}.</p>")
    else:
        lines = [
            [
                _day(line.occurred_at),
                escape(
                    ", ".join(f"{SOURCES.get(kind, kind)} {value}" for kind, value in line.source.items())
                ),
                name(line.cause_id),
                "Pledge" if line.kind == "pledge" else "Refund reversed",
                ("" if line.kind == "pledge" else "−") + escape(_amount(line.amount, line.currency)),
                "Paid to the cause" if line.status == DISBURSED else "Pledged",
            ]
            for line in statement.lines
        ]
        totals = [
            [name(t.cause_id), *(escape(_amount(v, t.currency)) for v in (t.pledged, t.reversed, t.net))]
            for t in statement.totals
        ]
        parts += [
            "<h2>Donations</h2>",
            _table(["Date", "From", "Cause", "What", "Amount#", "Status"], lines),
            "<h2>Totals</h2>",
            _table(["Cause", "Pledged#", "Reversed#", "Net#"], totals),
        ]
    if statement.payouts:
        payouts = [
            [_day(p.paid_at), name(p.cause_id), escape(_amount(p.amount, p.currency)), receipt(p.receipt_url)]
            for p in statement.payouts
        ]
        parts += [
            "<h2>Payments to the causes</h2>",
            _table(["Paid on", "Cause", "Amount#", "Receipt"], payouts),
        ]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Giving statement {year}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{PAGE_STYLE}</style></head><body><main>{''.join(parts)}</main></body></html>"
    )
