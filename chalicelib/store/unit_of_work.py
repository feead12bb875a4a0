"""A member's unit of work: load the shopper once, commit everything a fact changes in one transaction.

    uow = MemberUnitOfWork(customer_ref)
    member = uow.load()                       # one strongly consistent GetItem
    member.observe(...)                       # domain rules decide
    uow.record_event(event_key, expires_at)   # the Stripe event is applied exactly once
    uow.add_ledger_entry(pledge)              # a renewal pledge and its totals
    uow.add_fee(invoice_id, month, currency, amount)  # a paid fee in the program and cohort counters
    uow.commit(member, now, policy)           # one TransactWriteItems, version-checked

`commit` raises StaleMemberError when another writer changed the shopper since `load` (load again,
decide again, commit again), EventAlreadyAppliedError for an event applied before, and
LedgerEntryExistsError when a pledge was recorded before (by the other path). Storage failures
become our errors (a 503 when worth a retry), never a pynamodb error.

Other effects of the same fact join the same transaction through `include` (each gets the
`TransactWrite` after the member, the event record and the ledger entries were added). The member
item is written whole (a put), so everything stored on it belongs to the `Member` aggregate; the
cohort counter moves its refresh decides are written with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.member import Member, RenewalPledge
from chalicelib.domain.membership import AccessPolicy
from chalicelib.store import ledger, program
from chalicelib.store.base import cancellation_codes, storage_errors, transaction_connection
from chalicelib.store.idempotency import COMPLETE, IdempotencyRecord
from chalicelib.store.members import (
    EventAlreadyAppliedError,
    MemberRecord,
    StaleMemberError,
    record_of,
    to_state,
)

CONDITION_FAILED = "ConditionalCheckFailed"


class LedgerEntryExistsError(Exception):
    """A ledger entry of this unit of work was recorded before (its id is the argument)."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id)
        self.entry_id = entry_id


class MemberUnitOfWork:
    """One shopper, loaded once and committed once. Use a new one for each attempt."""

    def __init__(self, customer_ref: str, known_entries: set[str] | None = None) -> None:
        self.customer_ref = customer_ref
        # Ledger entry ids a previous attempt found already recorded.
        self.known_entries = known_entries if known_entries is not None else set()
        self._event: IdempotencyRecord | None = None
        self._pledges: list[RenewalPledge] = []
        self._extra: list[Callable[[TransactWrite], None]] = []
        self._fees: list[program.CohortFee] = []

    def load(self) -> Member | None:
        """The shopper (strongly consistent: a payment a moment ago must show), or None if unknown."""
        try:
            return to_state(MemberRecord.get(self.customer_ref, consistent_read=True))
        except MemberRecord.DoesNotExist:
            return None

    def record_event(self, event_key: str, expires_at: datetime) -> None:
        """Record the Stripe event as applied, in the same transaction as its effect."""
        self._event = IdempotencyRecord(event_key, state=COMPLETE, expires_at=expires_at)

    def recorded_before(self, entry_id: str) -> bool:
        """Did an earlier attempt find this ledger entry already recorded (by the other path)?"""
        return entry_id in self.known_entries

    def add_ledger_entry(self, pledge: RenewalPledge) -> None:
        self._pledges.append(pledge)

    def add_fee(self, invoice_id: str, month: str, currency: str, amount: int) -> None:
        """A membership fee paid (counted once per invoice by the caller): the month's program fees, the
        member's `fees_paid`, and the fees of the member's cohort (as it stands at commit)."""
        self.include(program.fee_writes(self.customer_ref, invoice_id, month, currency, amount))
        self._fees.append(program.CohortFee(invoice_id, currency, amount))

    def include(self, write: Callable[[TransactWrite], None]) -> None:
        """Another effect of the same fact, added to the transaction at commit."""
        self._extra.append(write)

    def commit(self, member: Member, now: datetime, policy: AccessPolicy) -> Member:
        """Write the member (derived fields refreshed) and everything added, all or nothing."""
        member.refresh(now, policy)
        record = record_of(member, now)
        standing = member.cohort
        cohort_items = program.member_cohort_writes(
            f"{member.customer_ref}#{standing.changed_at if standing else 0}",
            member.cohort_moves,
            standing.cohort if standing else None,
            self._fees,
        )
        # Cancellation reasons come per item, puts in the order added: the member, the event, entries.
        event_index = 1 if self._event is not None else None
        first_entry = 1 + (event_index is not None)
        with storage_errors():
            try:
                with TransactWrite(connection=transaction_connection()) as transaction:
                    transaction.save(record)  # version condition: unchanged since load (or new)
                    if self._event is not None:
                        transaction.save(self._event, condition=IdempotencyRecord.key.does_not_exist())
                    for pledge in self._pledges:
                        ledger.add_entry(
                            transaction, pledge.entry_id, pledge.entry, pledge.occurred_at, now,
                            member.customer_ref,
                        )  # fmt: skip
                    for write in self._extra:
                        write(transaction)
                    cohort_items(transaction)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                if not codes:
                    raise
                if event_index is not None and codes[event_index] == CONDITION_FAILED:
                    raise EventAlreadyAppliedError(self._event.key if self._event else "") from exc
                for offset, pledge in enumerate(self._pledges):
                    index = first_entry + offset
                    if index < len(codes) and codes[index] == CONDITION_FAILED:
                        raise LedgerEntryExistsError(pledge.entry_id) from exc
                if codes[0] == CONDITION_FAILED or "TransactionConflict" in codes:
                    raise StaleMemberError(self.customer_ref) from exc
                raise
        return to_state(record)
