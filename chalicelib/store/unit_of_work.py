"""The one unit of work: every write of the service is load → decide (in `domain/`) → one commit.

    with uow:
        order = uow.orders.get(order_id)             # one strongly consistent read
        refunded = order.refund(refund_id, amount, now)   # the aggregate decides, returns effects
        uow.orders.add_refund(order, refunded, reply, now)
        uow.commit()                                 # one TransactWriteItems

Each repository maps an aggregate's effects to items and keys (shards included) and tags every item
whose condition can fail with the error that failure means (`store/transaction.py`); it decides nothing.
`commit()` raises `domain.conflicts` errors only: a natural id recorded before (with what it holds, from
the failed write itself), or a lost race (load again, decide again: `services.unit_of_work.attempts`).
Outbound events join their fact's transaction with `uow.events.add(event)` (the outbox item).
Another kind of item joins a fact's transaction with one `uow.transaction.put(...)`.

A unit of work is reusable: entering it starts an empty transaction; leaving it without `commit()`
writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.domain.conflicts import EventAlreadyAppliedError, Recorded, StaleMemberError
from chalicelib.domain.donations import Balance, CauseBalance, LedgerEntry, Posting
from chalicelib.domain.events import Event
from chalicelib.domain.gift import Gift
from chalicelib.domain.member import Member
from chalicelib.domain.order import Order, OrderPlaced, Refunded
from chalicelib.domain.program import ShopperHistory
from chalicelib.domain.referral import BalanceMove, Referral
from chalicelib.domain.times import month_of
from chalicelib.store import events, gifts, giving, ledger, orders, program, referrals, totals
from chalicelib.store.idempotency import COMPLETE, IdempotencyRecord
from chalicelib.store.members import MemberRecord, record_of, to_state
from chalicelib.store.transaction import Transaction


@dataclass(slots=True)
class Shopper:
    """What an order is decided on: the member (None: not one) and their counting history."""

    member: Member | None
    history: ShopperHistory
    # The history's revision as read (None: the shopper has none yet).
    revision: int | None


@dataclass(frozen=True, slots=True)
class _PendingMember:
    member: Member
    now: datetime


class Members:
    """Shoppers: loaded whole, written whole (a put under the version read) with their cohort counters."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def get(self, customer_ref: str) -> Member | None:
        """The shopper (strongly consistent: a payment a moment ago must show), or None if unknown."""
        try:
            return to_state(MemberRecord.get(customer_ref, consistent_read=True))
        except MemberRecord.DoesNotExist:
            return None

    def shopper(self, customer_ref: str) -> Shopper:
        """The member and the shopper's counting history: one TransactGetItems."""
        member, stored = program.read_shopper(customer_ref)
        return Shopper(member, stored.history, stored.revision)

    def add(self, member: Member, now: datetime) -> None:
        """Write the member at commit (refresh its derived fields first: `Member.refresh`). Several
        members may join one transaction (a referral reward: the friend and the referrer), each under
        its own version; the fees added belong to the first."""
        self._uow.pending_members[member.customer_ref] = _PendingMember(member, now)

    def add_fee(self, customer_ref: str, invoice_id: str, month: str, currency: str, amount: int) -> None:
        """A membership fee paid: the month's program fees, the member's `fees_paid`, and the fees of the
        member's cohort as it stands at commit."""
        program.add_fee_effects(self._uow.transaction, customer_ref, invoice_id, month, currency, amount)
        self._uow.pending_fees.append(program.CohortFee(invoice_id, currency, amount))

    def record_event(self, event_key: str, expires_at: datetime) -> None:
        """The Stripe event is applied once: its record joins the transaction of its effect."""
        self._uow.transaction.put(
            IdempotencyRecord(event_key, state=COMPLETE, expires_at=expires_at),
            condition=IdempotencyRecord.key.does_not_exist(),
            on_conflict=lambda _old: EventAlreadyAppliedError(event_key),
        )

    def value(self, customer_ref: str) -> tuple[dict[tuple[str, str], Balance], dict[str, tuple[int, int]]]:
        """The shopper's running impact (per currency and cause) and value (saved, fees_paid per
        currency), as committed: two Queries, whatever the length of their history."""
        return totals.member_totals(customer_ref), program.member_value(customer_ref)

    def write_pending(self, pending: _PendingMember, fees: list[program.CohortFee]) -> MemberRecord:
        """The member item (under the version it was loaded at) and the cohort counters its change moves."""
        member = pending.member
        record = record_of(member, pending.now)
        # The version read (or none: a new shopper) is the put's condition.
        self._uow.transaction.put(record, on_conflict=lambda _old: StaleMemberError(member.customer_ref))
        standing = member.cohort
        program.add_member_cohort(
            self._uow.transaction,
            f"{member.customer_ref}#{standing.changed_at if standing else 0}",
            member.cohort_moves,
            standing.cohort if standing else None,
            fees,
        )
        return record


class Orders:
    """Orders and refunds: the order record carries the aggregate's facts; refunds are their own records."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def get(self, order_id: str) -> Order | None:
        return orders.get_order(order_id)

    def recorded(self, order_id: str, refund_id: str | None = None) -> Recorded | None:
        """What the order's (or a refund's) request was and answered: for answering a retry that the
        aggregate refuses now (the order it placed changed what is allowed)."""
        return orders.get_recorded(order_id, refund_id)

    def add(self, placed: OrderPlaced, reply: Recorded, now: datetime) -> None:
        """A new order with its pledge, program counters and the shopper's new counting history."""
        tx = self._uow.transaction
        orders.add_order(tx, placed.order, reply, now)
        if placed.pledge is not None:
            ledger.add_posting(tx, placed.pledge, now)
        program.add_order_effects(tx, placed)

    def add_refund(self, order: Order, refunded: Refunded, reply: Recorded, now: datetime) -> None:
        """A refund: its record, the order's new running sums, the reversal and the program counters."""
        tx = self._uow.transaction
        orders.add_refund(tx, order, refunded, reply, now)
        if refunded.reversal is not None:
            ledger.add_posting(tx, refunded.reversal, now)
        program.add_program_effects(tx, refunded.program)


class Ledger:
    """Ledger entries of other facts (a renewal pledge) and causes' balances (disbursements)."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def add(self, posting: Posting, now: datetime) -> None:
        """A new entry and its totals (LedgerEntryExistsError when its id was recorded before)."""
        ledger.add_posting(self._uow.transaction, posting, now)

    def balance(self, cause_id: str, currency: str) -> CauseBalance:
        """The cause's all-time sums in the currency: one TransactGetItems over its shards."""
        return totals.cause_balance(cause_id, currency)

    def add_disbursement(
        self, loaded: CauseBalance, posting: Posting, reply: Recorded, now: datetime, disbursement_id: str
    ) -> None:
        ledger.add_disbursement(self._uow.transaction, posting, loaded, reply, now, disbursement_id)

    def recorded_disbursement(self, disbursement_id: str) -> Recorded | None:
        return ledger.get_disbursement(disbursement_id)

    def disbursement(self, disbursement_id: str) -> tuple[LedgerEntry, dict[str, Any]] | None:
        """A recorded disbursement's entry and answer (one GetItem), for voiding it."""
        return ledger.get_disbursement_entry(disbursement_id)

    def add_void(self, posting: Posting, reason: str, now: datetime, disbursement_id: str) -> None:
        """A disbursement's reversing entry (once: DisbursementAlreadyVoidedError) and its totals."""
        ledger.add_void(self._uow.transaction, posting, reason, now, disbursement_id)

    def add_overdue_stretch(self, cause_id: str, currency: str, now: datetime) -> None:
        """A cause's payout became overdue (once per stretch: PayoutOverdueRecordedError)."""
        giving.add_overdue_stretch(self._uow.transaction, cause_id, currency, now)


class Referrals:
    """A friend's referral changed: the referrer's copy, the due pointer and the report counters; and the
    referrer's balance moves still to make in Stripe."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def add(self, friend_ref: str, before: Referral | None, after: Referral, now: datetime) -> None:
        referrals.add_referral_effects(self._uow.transaction, friend_ref, before, after, now)

    def add_balance_move(self, move: BalanceMove) -> None:
        """A credit or debit of the referrer's Stripe balance, to make once the transaction commits."""
        referrals.add_balance_move(self._uow.transaction, move)


class Gifts:
    """Gift memberships: recorded once when paid (with the month's fees), redeemed once."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def get(self, code: str) -> Gift | None:
        return gifts.get_gift(code)

    def add(self, gift: Gift, event_key: str) -> None:
        """The paid gift (EventAlreadyAppliedError if seen before) and its payment in the program fees."""
        gifts.add_gift(self._uow.transaction, gift, event_key)
        program.add_program_fee(
            self._uow.transaction, gift.gift_id, month_of(gift.paid_at), gift.currency, gift.amount
        )

    def redeem(self, gift: Gift) -> None:
        """The gift as redeemed (GiftRedeemedError when someone was first)."""
        gifts.redeem_gift(self._uow.transaction, gift)


class Events:
    """Outbound events (the outbox): each one an item of its fact's own transaction."""

    def __init__(self, uow: DynamoUnitOfWork) -> None:
        self._uow = uow

    def add(self, event: Event) -> None:
        """The event commits with the fact or not at all (its id must not exist yet)."""
        events.add_event(self._uow.transaction, event)


class CatalogReader(Protocol):
    """Plans and causes as the use cases read them (the API passes the cached catalog)."""

    def plans(self) -> Mapping[str, Plan]: ...
    def causes(self) -> Mapping[str, Cause]: ...


class DynamoUnitOfWork:
    """The unit of work on DynamoDB (one TransactWriteItems per commit)."""

    def __init__(self, catalog: CatalogReader) -> None:
        self.catalog = catalog
        self.members = Members(self)
        self.orders = Orders(self)
        self.ledger = Ledger(self)
        self.referrals = Referrals(self)
        self.gifts = Gifts(self)
        self.events = Events(self)
        self.transaction = Transaction()
        self.pending_members: dict[str, _PendingMember] = {}
        self.pending_fees: list[program.CohortFee] = []
        self.committed_member: Member | None = None
        self.committed_members: dict[str, Member] = {}

    def __enter__(self) -> DynamoUnitOfWork:
        self.transaction = Transaction()
        self.pending_members = {}
        self.pending_fees = []
        self.committed_member = None
        self.committed_members = {}
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Nothing is sent unless `commit()` was called: leaving discards what was added.
        self.transaction = Transaction()

    def commit(self) -> None:
        """Everything added, all or nothing; raises `domain.conflicts` errors."""
        records = [
            self.members.write_pending(pending, self.pending_fees if index == 0 else [])
            for index, pending in enumerate(self.pending_members.values())
        ]
        self.transaction.commit()
        # The members as stored now (their versions moved on with the write); the first is the change's own.
        self.committed_members = {record.customer_ref: to_state(record) for record in records}
        self.committed_member = self.committed_members[records[0].customer_ref] if records else None
