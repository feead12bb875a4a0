"""Giving transparency: a shopper's impact statement, what causes are owed (payouts), a cause's public
giving record, and the correction of a mistaken disbursement (a void).

Reads are flat in orders: the statement reads the shopper's own lines and their causes' pledge days and
payouts; the payouts report reads the all-time totals and the pledge days; the giving record reads the
month totals and the cause's payouts. Rules live in `domain/giving.py`.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec

from chalicelib import clock, log
from chalicelib.domain import giving_page
from chalicelib.domain.conflicts import DisbursementAlreadyVoidedError, PayoutOverdueRecordedError
from chalicelib.domain.csv_export import csv_document
from chalicelib.domain.donations import Posting
from chalicelib.domain.events import CAUSE_PAYOUT_OVERDUE, Moment, PayoutOverdue, event_of, new_event_id
from chalicelib.domain.giving import (
    CauseLedger,
    Payout,
    PayoutObligation,
    Statement,
    impact_statement,
    payout_obligation,
    void_entry,
    void_entry_id,
)
from chalicelib.domain.money import format_decimal
from chalicelib.errors import ConflictError, NotFoundError
from chalicelib.services import catalog
from chalicelib.services.donations import DisbursementOut
from chalicelib.services.unit_of_work import UnitOfWork, attempts
from chalicelib.settings import settings
from chalicelib.store import giving as store
from chalicelib.store import ledger
from chalicelib.store import totals as totals_store

logger = log.get_logger("giving")


# --- voids -----------------------------------------------------------------------------------------


class VoidIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


def void_disbursement(disbursement_id: str, reason: str, uow: UnitOfWork) -> DisbursementOut:
    """Correct a mistaken disbursement: a reversing entry (in the payout's month) that gives its amount
    back to the cause's outstanding balance; the disbursement then lists as `voided`. Once only (409)."""
    now = clock.now()

    def attempt() -> DisbursementOut:
        with uow:
            found = uow.ledger.disbursement(disbursement_id)
            if found is None:
                raise NotFoundError(
                    f"No disbursement `{disbursement_id}`.",
                    param="disbursement_id",
                    code="disbursement_not_found",
                )
            entry, answer = found
            posting = Posting(void_entry_id(disbursement_id), void_entry(entry), now)
            uow.ledger.add_void(posting, reason, now, disbursement_id)
            try:
                uow.commit()
            except DisbursementAlreadyVoidedError:
                raise ConflictError(
                    f"Disbursement `{disbursement_id}` was voided before.",
                    param="disbursement_id", code="disbursement_voided",
                ) from None  # fmt: skip
        out = msgspec.convert(answer, DisbursementOut)
        out.status, out.voided_at, out.void_reason = "voided", now, reason
        return out

    return attempts(attempt)


def with_voids(disbursements: list[DisbursementOut]) -> list[DisbursementOut]:
    """The disbursements with their void status (one BatchGetItem for a page)."""
    if not disbursements:
        return disbursements
    voided = ledger.voids_of(d.disbursement_id for d in disbursements)
    for d in disbursements:
        if d.disbursement_id in voided:
            d.status = "voided"
            d.voided_at, d.void_reason = voided[d.disbursement_id]
    return disbursements


def _payouts(cause_id: str, currency: str | None = None) -> list[Payout]:
    """The cause's payouts that stand (voided ones left out)."""
    recorded = [msgspec.convert(r, DisbursementOut) for r in ledger.cause_disbursements(cause_id, currency)]
    return [
        Payout(d.disbursement_id, d.cause_id, d.currency, d.amount, d.paid_at, d.receipt_url)
        for d in with_voids(recorded)
        if d.status != "voided"
    ]


# --- impact statement ------------------------------------------------------------------------------


class Source(msgspec.Struct, omit_defaults=True):
    order_id: str | None = None
    invoice_id: str | None = None
    gift_id: str | None = None


class StatementLineOut(msgspec.Struct):
    occurred_at: datetime
    kind: Literal["pledge", "reversal"]
    source: Source
    cause_id: str
    amount: int
    currency: str
    status: Literal["pledged", "disbursed"]


class StatementTotalOut(msgspec.Struct):
    cause_id: str
    currency: str
    pledged: int
    reversed: int
    net: int


class StatementPayout(msgspec.Struct):
    cause_id: str
    currency: str
    amount: int
    paid_at: datetime
    receipt_url: str | None


class ImpactStatement(msgspec.Struct):
    customer_ref: str
    year: int
    lines: list[StatementLineOut]
    totals: list[StatementTotalOut]
    disbursements: list[StatementPayout]


def statement(customer_ref: str, year: int) -> ImpactStatement:
    """The shopper's giving in `year`, line by line. One Query for their lines, then per cause and
    currency they gave to: its pledge days (one Query per shard) and its payouts (one Query, one
    BatchGetItem): the cost grows with the shopper's own entries and causes, never with the store's."""
    built = _built_statement(customer_ref, year)
    return ImpactStatement(
        customer_ref=customer_ref,
        year=year,
        lines=[msgspec.convert(asdict(line), StatementLineOut, from_attributes=True) for line in built.lines],
        totals=[
            StatementTotalOut(t.cause_id, t.currency, t.pledged, t.reversed, t.net) for t in built.totals
        ],
        disbursements=[
            StatementPayout(p.cause_id, p.currency, p.amount, p.paid_at, p.receipt_url) for p in built.payouts
        ],
    )


def _built_statement(customer_ref: str, year: int) -> Statement:
    entries = store.shopper_entries(customer_ref, year)
    ledgers = {}
    for cause_id, currency in sorted({(e.cause_id, e.currency) for e in entries}):
        days = store.day_nets(cause_id, currency).get((cause_id, currency), {})
        ledgers[(cause_id, currency)] = CauseLedger(days, _payouts(cause_id, currency))
    return impact_statement(entries, year, ledgers)


def statement_page(customer_ref: str, year: int) -> str:
    """The same statement as a printable HTML page (print CSS, causes by name, receipts linked)."""
    names = {cause_id: cause.name for cause_id, cause in catalog.causes().items()}
    return giving_page.statement_page(customer_ref, year, _built_statement(customer_ref, year), names)


# --- payouts -----------------------------------------------------------------------------------------


class PayoutRow(msgspec.Struct):
    cause_id: str
    currency: str
    outstanding: int
    oldest_undisbursed_at: datetime | None
    days_outstanding: int
    overdue: bool


class PayoutsReport(msgspec.Struct):
    data: list[PayoutRow]
    due_days: int


PAYOUT_CSV_COLUMNS = [
    "cause_id", "currency", "outstanding", "outstanding_decimal", "oldest_undisbursed_at", "days_outstanding",
    "overdue",
]  # fmt: skip


def obligations(now: datetime) -> list[PayoutObligation]:
    """Per cause and currency: owed, since when, overdue. The all-time totals (their rollup, exact at
    the read) and one Query per shard of the pledge days: flat in orders."""
    days = store.day_nets()
    totals, _ = totals_store.all_time_totals()
    return [
        payout_obligation(
            cause_id,
            currency,
            balance.outstanding,
            days.get((cause_id, currency), {}),
            balance.disbursed,
            now,
            settings.payout_due_days,
        )
        for cause_id, currency, balance in totals
    ]


def payouts_report() -> PayoutsReport:
    rows = [
        PayoutRow(
            o.cause_id, o.currency, o.outstanding, o.oldest_undisbursed_at, o.days_outstanding, o.overdue
        )
        for o in obligations(clock.now())
    ]
    rows.sort(key=lambda r: (not r.overdue, -r.days_outstanding, r.cause_id, r.currency))
    return PayoutsReport(data=rows, due_days=settings.payout_due_days)


def payouts_csv(report: PayoutsReport) -> str:
    return csv_document(
        PAYOUT_CSV_COLUMNS,
        (
            [
                r.cause_id,
                r.currency,
                r.outstanding,
                format_decimal(r.outstanding, r.currency),
                r.oldest_undisbursed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if r.oldest_undisbursed_at else "",
                r.days_outstanding,
                "true" if r.overdue else "false",
            ]
            for r in report.data
        ),
    )


class PayoutCheck(msgspec.Struct):
    overdue: int
    notified: int
    cleared: int


def check_payouts(uow: UnitOfWork) -> PayoutCheck:
    """The hourly check: a cause that became overdue gets its stretch recorded and `cause.payout_overdue`
    in one transaction (once per stretch: the stretch's record must not exist yet); a cause no longer
    overdue has its stretch closed, so a later one notifies again."""
    now = clock.now()
    current = store.overdue_stretches()
    notified = cleared = overdue = 0
    for o in obligations(now):
        key = (o.cause_id, o.currency)
        if o.overdue and o.oldest_undisbursed_at is not None:
            overdue += 1
            if key not in current and _announce_overdue(o, now, uow):
                notified += 1
        elif key in current:
            store.end_overdue_stretch(o.cause_id, o.currency)
            cleared += 1
    return PayoutCheck(overdue=overdue, notified=notified, cleared=cleared)


def _announce_overdue(o: PayoutObligation, now: datetime, uow: UnitOfWork) -> bool:
    assert o.oldest_undisbursed_at is not None
    data = PayoutOverdue(
        cause_id=o.cause_id, currency=o.currency, outstanding=o.outstanding,
        oldest_undisbursed_at=o.oldest_undisbursed_at,
    )  # fmt: skip
    event = event_of(
        Moment(type=CAUSE_PAYOUT_OVERDUE, extra=data), event_id=new_event_id(now), created_at=now,
        customer_ref=None, sequence=None,
    )  # fmt: skip
    with uow:
        uow.ledger.add_overdue_stretch(o.cause_id, o.currency, now)
        uow.events.add(event)
        try:
            uow.commit()
        except PayoutOverdueRecordedError:
            return False  # another run recorded this stretch first
    return True


# --- the public giving record ----------------------------------------------------------------------


class GivingMonth(msgspec.Struct):
    period: str
    currency: str
    pledged_net: int
    disbursed: int


class GivingPayout(msgspec.Struct):
    amount: int
    currency: str
    paid_at: datetime
    receipt_url: str | None


class GivingRecordOut(msgspec.Struct):
    cause_id: str
    name: str
    legal_name: str | None
    months: list[GivingMonth]
    disbursements: list[GivingPayout]


def giving_record(cause_id: str, first: str, last: str) -> GivingRecordOut:
    """Per month what members' purchases pledged (net) to the cause and what was paid to it, with the
    payouts' receipts. The month totals (their rollups) and the cause's payouts: flat in orders,
    and nothing about any shopper."""
    cause = catalog.causes().get(cause_id)
    if cause is None:
        raise NotFoundError(f"No cause `{cause_id}`.", param="cause_id", code="cause_not_found")
    totals, _ = totals_store.monthly_totals(first, last)
    months = [
        GivingMonth(period, currency, b.net, b.disbursed)
        for period, cause, currency, b in totals
        if cause == cause_id
    ]
    months.sort(key=lambda m: (m.period, m.currency))
    paid = [
        GivingPayout(p.amount, p.currency, p.paid_at, p.receipt_url)
        for p in sorted(_payouts(cause_id), key=lambda p: (p.paid_at, p.disbursement_id))
        if first <= p.paid_at.astimezone(UTC).strftime("%Y-%m") <= last
    ]
    return GivingRecordOut(cause_id, cause.name, cause.legal_name, months, paid)
