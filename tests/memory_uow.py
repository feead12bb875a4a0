"""An in-memory unit of work with the same contract as DynamoDB's (`store/unit_of_work.py`): service tests
run the real use cases against it in microseconds.

It keeps what the DynamoDB tables keep, by what it means rather than by key and shard: members, orders and
their recorded answers, ledger entries, the running totals (per `domain.donations.counted_in` line), the
program effects, fees and applied events. A commit checks every condition first and raises the same
`domain.conflicts` errors (a fact recorded before wins over a lost race), then applies all or nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.domain.cohorts import Cohort, CohortMove, CohortSums
from chalicelib.domain.conflicts import (
    BalanceChangedError,
    DisbursementAlreadyVoidedError,
    DuplicateDisbursementError,
    DuplicateOrderError,
    DuplicateRefundError,
    EventAlreadyAppliedError,
    EventIdTakenError,
    GiftRedeemedError,
    LedgerEntryExistsError,
    LostRaceError,
    PayoutOverdueRecordedError,
    Recorded,
    StaleHistoryError,
    StaleMemberError,
    StaleOrderError,
)
from chalicelib.domain.donations import (
    Balance,
    CauseBalance,
    CauseTotal,
    LedgerEntry,
    Posting,
    ShopperImpact,
    TotalsLine,
    counted_in,
    disbursement_entry_id,
)
from chalicelib.domain.events import Event
from chalicelib.domain.gift import Gift
from chalicelib.domain.member import Member
from chalicelib.domain.order import Order, OrderPlaced, ProgramEffects, Refunded
from chalicelib.domain.program import ShopperHistory
from chalicelib.domain.referral import BalanceMove, Referral


@dataclass
class MemoryCatalog:
    plans_by_id: dict[str, Plan] = field(default_factory=dict)
    causes_by_id: dict[str, Cause] = field(default_factory=dict)

    def plans(self) -> Mapping[str, Plan]:
        return self.plans_by_id

    def causes(self) -> Mapping[str, Cause]:
        return self.causes_by_id


@dataclass
class Tables:
    """What is committed."""

    members: dict[str, Member] = field(default_factory=dict)
    histories: dict[str, tuple[ShopperHistory, int]] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    # (order id, refund id or None) → the request and its answer
    replies: dict[tuple[str, str | None], Recorded] = field(default_factory=dict)
    entries: dict[str, Posting] = field(default_factory=dict)
    disbursements: dict[str, Recorded] = field(default_factory=dict)
    totals: dict[TotalsLine, Balance] = field(default_factory=dict)
    program: list[ProgramEffects] = field(default_factory=list)
    fees: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    events: set[str] = field(default_factory=set)
    # The outbox: outbound events by id, in commit order.
    outbox: dict[str, Event] = field(default_factory=dict)
    cohort_moves: list[CohortMove] = field(default_factory=list)
    # (cohort, currency, fees, revenue) added to a cohort's money
    cohort_money: list[tuple[Cohort, str, int, int]] = field(default_factory=list)
    # (cause, currency) → when its payout became overdue
    overdue_stretches: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # friend_ref → their referral as the referrer's copy holds it
    referrals: dict[str, Referral] = field(default_factory=dict)
    # (friend_ref, kind) → a referrer's balance move committed, not yet made in Stripe
    balance_moves: dict[tuple[str, str], BalanceMove] = field(default_factory=dict)
    gifts: dict[str, Gift] = field(default_factory=dict)
    commits: int = 0

    def cohort_sums(self, first: str, last: str) -> dict[tuple[str, str], CohortSums]:
        """The cohort counters of the cohorts first..last, as `store.program.cohort_sums` reads them."""
        sums: dict[tuple[str, str], CohortSums] = {}

        def of(cohort: Cohort) -> CohortSums | None:
            if not first <= cohort.month <= last:
                return None
            return sums.setdefault((cohort.month, cohort.plan_id), CohortSums())

        for move in self.cohort_moves:
            counted = of(move.cohort)
            if counted is None:
                continue
            if move.joined:
                counted.joined += move.joined
                if move.cohort.currency is not None:
                    counted.money.setdefault(move.cohort.currency, (0, 0))
            counted.active[move.month] = counted.active.get(move.month, 0) + move.active
        for cohort, currency, fees, revenue in self.cohort_money:
            counted = of(cohort)
            if counted is not None:
                before = counted.money.get(currency, (0, 0))
                counted.money[currency] = (before[0] + fees, before[1] + revenue)
        return sums


@dataclass
class MemoryShopper:
    member: Member | None
    history: ShopperHistory
    revision: int | None


# A pending write: a check (None when it holds, else the error it means) and what applying it does.
Check = Callable[[Tables], Exception | None]
Apply = Callable[[Tables], None]


class _Members:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self, customer_ref: str) -> Member | None:
        member = self._uow.tables.members.get(customer_ref)
        return copy.deepcopy(member)

    def shopper(self, customer_ref: str) -> MemoryShopper:
        history, revision = self._uow.tables.histories.get(customer_ref, (ShopperHistory(), None))
        return MemoryShopper(self.get(customer_ref), copy.deepcopy(history), revision)

    def add(self, member: Member, now: datetime) -> None:
        read = member.version
        saved = copy.deepcopy(member)
        saved.version = (read or 0) + 1
        saved.cohort_moves = []

        def check(tables: Tables) -> Exception | None:
            stored = tables.members.get(member.customer_ref)
            return (
                None
                if (stored.version if stored else None) == read
                else StaleMemberError(member.customer_ref)
            )

        def apply(tables: Tables) -> None:
            tables.members[member.customer_ref] = saved

        self._uow.pending.append((check, apply))
        # The cohort counters move with the member: its joins and `active` moves, and the fees paid (in the
        # cohort it stands in at commit). The fees belong to the first member of the unit of work.
        moves = list(member.cohort_moves)
        cohort = member.cohort.cohort if member.cohort is not None else None
        paid = self._uow.pending_fees if not self._uow.committed_members else []
        fees = [(cohort, currency, amount, 0) for currency, amount in paid if cohort is not None]
        self._uow.pending.append(
            (lambda _t: None, lambda t: (t.cohort_moves.extend(moves), t.cohort_money.extend(fees)))
        )
        self._uow.committed_member = self._uow.committed_member or saved
        self._uow.committed_members[member.customer_ref] = saved

    def add_fee(self, customer_ref: str, invoice_id: str, month: str, currency: str, amount: int) -> None:
        self._uow.pending_fees.append((currency, amount))
        self._uow.pending.append(
            (lambda _t: None, lambda t: t.fees.append((customer_ref, invoice_id, month, currency, amount)))
        )

    def record_event(self, event_key: str, expires_at: datetime) -> None:
        self._uow.pending.append(
            (
                lambda t: EventAlreadyAppliedError(event_key) if event_key in t.events else None,
                lambda t: t.events.add(event_key),
            )
        )

    def value(self, customer_ref: str) -> tuple[dict[tuple[str, str], Balance], dict[str, tuple[int, int]]]:
        tables = self._uow.tables
        impact = {
            (line.currency, line.cause_id): copy.copy(balance)
            for line, balance in tables.totals.items()
            if isinstance(line, ShopperImpact) and line.customer_ref == customer_ref
        }
        running: dict[str, tuple[int, int]] = {}
        for effects in tables.program:
            if effects.customer_ref == customer_ref and effects.saved:
                saved, fees = running.get(effects.movement.currency, (0, 0))
                running[effects.movement.currency] = (saved + effects.saved, fees)
        for ref, _invoice, _month, currency, amount in tables.fees:
            if ref == customer_ref:
                saved, fees = running.get(currency, (0, 0))
                running[currency] = (saved, fees + amount)
        return impact, running


class _Orders:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self, order_id: str) -> Order | None:
        return copy.deepcopy(self._uow.tables.orders.get(order_id))

    def recorded(self, order_id: str, refund_id: str | None = None) -> Recorded | None:
        return self._uow.tables.replies.get((order_id, refund_id))

    def add(self, placed: OrderPlaced, reply: Recorded, now: datetime) -> None:
        order = copy.deepcopy(placed.order)
        order.version = 1
        key = order.order_id
        self._uow.pending.append(
            (
                lambda t: DuplicateOrderError(t.replies[(key, None)]) if key in t.orders else None,
                lambda t: (t.orders.__setitem__(key, order), t.replies.__setitem__((key, None), reply)),
            )
        )
        if placed.pledge is not None:
            self._uow.ledger.add(placed.pledge, now)
        if placed.history is not None:
            change = placed.history

            def history_check(t: Tables) -> Exception | None:
                stored = t.histories.get(change.customer_ref)
                return None if (stored[1] if stored else None) == change.revision else StaleHistoryError()

            revision = (change.revision or 0) + 1
            self._uow.pending.append(
                (
                    history_check,
                    lambda t: t.histories.__setitem__(change.customer_ref, (change.history, revision)),
                )
            )
        self._uow.pending.append((lambda _t: None, lambda t: _count_program(t, placed.program)))

    def add_refund(self, order: Order, refunded: Refunded, reply: Recorded, now: datetime) -> None:
        key = (order.order_id, refunded.refund_id)
        read = order.version
        saved = copy.deepcopy(order)
        saved.version = (read or 0) + 1
        self._uow.pending.append(
            (
                lambda t: DuplicateRefundError(t.replies[key]) if key in t.replies else None,
                lambda t: t.replies.__setitem__(key, reply),
            )
        )
        self._uow.pending.append(
            (
                lambda t: None if t.orders[order.order_id].version == read else StaleOrderError(),
                lambda t: t.orders.__setitem__(order.order_id, saved),
            )
        )
        if refunded.reversal is not None:
            self._uow.ledger.add(refunded.reversal, now)
        self._uow.pending.append((lambda _t: None, lambda t: _count_program(t, refunded.program)))


def _count_program(tables: Tables, effects: ProgramEffects) -> None:
    tables.program.append(effects)
    if effects.cohort is not None:
        tables.cohort_money.append((effects.cohort, effects.movement.currency, 0, effects.movement.revenue))


class _Ledger:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def add(self, posting: Posting, now: datetime, error: Exception | None = None) -> None:
        def apply(t: Tables) -> None:
            t.entries[posting.entry_id] = posting
            for line, delta in counted_in(posting.entry, posting.customer_ref):
                t.totals.setdefault(line, Balance()).merge(delta)

        def check(t: Tables) -> Exception | None:
            if posting.entry_id in t.entries:
                return error or LedgerEntryExistsError(posting.entry_id)
            return None

        self._uow.pending.append((check, apply))

    def balance(self, cause_id: str, currency: str) -> CauseBalance:
        return CauseBalance(
            cause_id,
            currency,
            copy.copy(self._uow.tables.totals.get(CauseTotal(cause_id, currency), Balance())),
        )

    def add_disbursement(
        self, loaded: CauseBalance, posting: Posting, reply: Recorded, now: datetime, disbursement_id: str
    ) -> None:
        line = CauseTotal(loaded.cause_id, loaded.currency)

        def paid_unchanged(t: Tables) -> Exception | None:
            return (
                None
                if t.totals.get(line, Balance()).disbursed == loaded.balance.disbursed
                else BalanceChangedError()
            )

        recorded = self._uow.tables.disbursements.get(disbursement_id)
        self.add(posting, now, DuplicateDisbursementError(recorded))
        self._uow.pending.append(
            (paid_unchanged, lambda t: t.disbursements.__setitem__(disbursement_id, reply))
        )

    def recorded_disbursement(self, disbursement_id: str) -> Recorded | None:
        return self._uow.tables.disbursements.get(disbursement_id)

    def disbursement(self, disbursement_id: str) -> tuple[LedgerEntry, dict[str, Any]] | None:
        posting = self._uow.tables.entries.get(disbursement_entry_id(disbursement_id))
        recorded = self._uow.tables.disbursements.get(disbursement_id)
        if posting is None or recorded is None:
            return None
        return posting.entry, recorded.response

    def add_void(self, posting: Posting, reason: str, now: datetime, disbursement_id: str) -> None:
        self.add(posting, now, DisbursementAlreadyVoidedError(disbursement_id))

    def add_overdue_stretch(self, cause_id: str, currency: str, now: datetime) -> None:
        key = (cause_id, currency)
        self._uow.pending.append(
            (
                lambda t: (
                    PayoutOverdueRecordedError(cause_id, currency) if key in t.overdue_stretches else None
                ),
                lambda t: t.overdue_stretches.__setitem__(key, now),
            )
        )


class _Referrals:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def add(self, friend_ref: str, before: Referral | None, after: Referral, now: datetime) -> None:
        self._uow.pending.append((lambda _t: None, lambda t: t.referrals.__setitem__(friend_ref, after)))

    def add_balance_move(self, move: BalanceMove) -> None:
        key = (move.friend_ref, move.kind)
        self._uow.pending.append((lambda _t: None, lambda t: t.balance_moves.__setitem__(key, move)))


class _Gifts:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def get(self, code: str) -> Gift | None:
        return self._uow.tables.gifts.get(code)

    def add(self, gift: Gift, event_key: str) -> None:
        self._uow.pending.append(
            (
                lambda t: EventAlreadyAppliedError(event_key) if gift.code in t.gifts else None,
                lambda t: t.gifts.__setitem__(gift.code, gift),
            )
        )

    def redeem(self, gift: Gift) -> None:
        def check(t: Tables) -> Exception | None:
            stored = t.gifts.get(gift.code)
            return GiftRedeemedError(gift.code) if stored is None or stored.redeemed_by else None

        self._uow.pending.append((check, lambda t: t.gifts.__setitem__(gift.code, gift)))


class _Events:
    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def add(self, event: Event) -> None:
        saved = copy.deepcopy(event)
        self._uow.pending.append(
            (
                lambda t: EventIdTakenError(event.id) if event.id in t.outbox else None,
                lambda t: t.outbox.__setitem__(saved.id, saved),
            )
        )


class InMemoryUnitOfWork:
    def __init__(self, catalog: MemoryCatalog | None = None, tables: Tables | None = None) -> None:
        self.catalog = catalog or MemoryCatalog()
        self.tables = tables or Tables()
        self.members = _Members(self)
        self.orders = _Orders(self)
        self.ledger = _Ledger(self)
        self.referrals = _Referrals(self)
        self.gifts = _Gifts(self)
        self.events = _Events(self)
        self.pending: list[tuple[Check, Apply]] = []
        self.pending_fees: list[tuple[str, int]] = []
        self.committed_member: Member | None = None
        self.committed_members: dict[str, Member] = {}
        # Called before each commit's checks: a test lets "another writer" commit in between.
        self.before_commit: list[Callable[[], None]] = []

    def __enter__(self) -> InMemoryUnitOfWork:
        self.pending = []
        self.pending_fees = []
        self.committed_member = None
        self.committed_members = {}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pending = []

    def commit(self) -> None:
        while self.before_commit:
            self.before_commit.pop(0)()
        errors = [error for check, _ in self.pending if (error := check(self.tables)) is not None]
        if errors:
            raise next((e for e in errors if not isinstance(e, LostRaceError)), errors[0])
        for _, apply in self.pending:
            apply(self.tables)
        self.tables.commits += 1
        self.pending = []
