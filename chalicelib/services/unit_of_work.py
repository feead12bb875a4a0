"""What a use case needs of a unit of work, and the one loop that retries a lost race.

Services take a `UnitOfWork` as a parameter: the API builds the DynamoDB one
(`store.unit_of_work.DynamoUnitOfWork`), service tests an in-memory one. Every write has one shape:

    def attempt() -> Answer:
        with uow:
            aggregate = uow.<repository>.get(...)        # load
            effects = aggregate.<decide>(...)            # pure, in domain/
            uow.<repository>.add(...effects)
            uow.commit()                                 # one transaction, or a conflicts error
        return answer

    return attempts(attempt)                             # a lost race: load again, decide again
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar

from chalicelib.domain.catalog import Cause, Plan
from chalicelib.domain.conflicts import LostRaceError, Recorded
from chalicelib.domain.donations import Balance, CauseBalance, LedgerEntry, Posting
from chalicelib.domain.events import Event
from chalicelib.domain.gift import Gift
from chalicelib.domain.member import Member
from chalicelib.domain.order import Order, OrderPlaced, Refunded
from chalicelib.domain.program import ShopperHistory
from chalicelib.domain.referral import BalanceMove, Referral
from chalicelib.errors import ServiceUnavailableError
from chalicelib.services import catalog
from chalicelib.store.unit_of_work import DynamoUnitOfWork

T = TypeVar("T")
# Optimistic concurrency: a commit that lost a race loads, decides and commits again this many times,
# after a short random pause so that racing writers spread out.
MAX_ATTEMPTS = 8


class Shopper(Protocol):
    member: Member | None
    history: ShopperHistory
    revision: int | None


class Members(Protocol):
    def get(self, customer_ref: str) -> Member | None: ...
    def shopper(self, customer_ref: str) -> Shopper: ...
    def add(self, member: Member, now: datetime) -> None: ...
    def add_fee(self, customer_ref: str, invoice_id: str, month: str, currency: str, amount: int) -> None: ...
    def record_event(self, event_key: str, expires_at: datetime) -> None: ...
    def value(self, customer_ref: str) -> MemberRunning: ...


# A shopper's running sums as stored: (currency, cause_id) → what their purchases and fees pledged and
# reversed, and currency → (saved, fees_paid).
MemberRunning = tuple[dict[tuple[str, str], Balance], dict[str, tuple[int, int]]]


class Orders(Protocol):
    def get(self, order_id: str) -> Order | None: ...
    def recorded(self, order_id: str, refund_id: str | None = None) -> Recorded | None: ...
    def add(self, placed: OrderPlaced, reply: Recorded, now: datetime) -> None: ...
    def add_refund(self, order: Order, refunded: Refunded, reply: Recorded, now: datetime) -> None: ...


class Ledger(Protocol):
    def add(self, posting: Posting, now: datetime) -> None: ...
    def balance(self, cause_id: str, currency: str) -> CauseBalance: ...
    def add_disbursement(
        self, loaded: CauseBalance, posting: Posting, reply: Recorded, now: datetime, disbursement_id: str
    ) -> None: ...
    def recorded_disbursement(self, disbursement_id: str) -> Recorded | None: ...
    def disbursement(self, disbursement_id: str) -> tuple[LedgerEntry, dict[str, Any]] | None: ...
    def add_void(self, posting: Posting, reason: str, now: datetime, disbursement_id: str) -> None: ...
    def add_overdue_stretch(self, cause_id: str, currency: str, now: datetime) -> None: ...


class Referrals(Protocol):
    def add(self, friend_ref: str, before: Referral | None, after: Referral, now: datetime) -> None: ...
    def add_balance_move(self, move: BalanceMove) -> None: ...


class Gifts(Protocol):
    def get(self, code: str) -> Gift | None: ...
    def add(self, gift: Gift, event_key: str) -> None: ...
    def redeem(self, gift: Gift) -> None: ...


class Events(Protocol):
    def add(self, event: Event) -> None: ...


class Catalog(Protocol):
    def plans(self) -> Mapping[str, Plan]: ...
    def causes(self) -> Mapping[str, Cause]: ...


class UnitOfWork(Protocol):
    @property
    def catalog(self) -> Catalog: ...
    @property
    def members(self) -> Members: ...
    @property
    def orders(self) -> Orders: ...
    @property
    def ledger(self) -> Ledger: ...
    @property
    def referrals(self) -> Referrals: ...
    @property
    def gifts(self) -> Gifts: ...
    @property
    def events(self) -> Events: ...
    @property
    def committed_member(self) -> Member | None: ...
    @property
    def committed_members(self) -> Mapping[str, Member]: ...
    def __enter__(self) -> object: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


def on_dynamodb() -> DynamoUnitOfWork:
    """The service's unit of work: DynamoDB, with the container's cached plans and causes."""
    return DynamoUnitOfWork(catalog)


def attempts(attempt: Callable[[], T], count: int = MAX_ATTEMPTS, busy_message: str | None = None) -> T:
    """Run a use case's load → decide → commit until it does not lose a race (at most `count` times)."""
    for _ in range(count):
        try:
            return attempt()
        except LostRaceError:
            time.sleep(random.uniform(0.005, 0.05))
    raise ServiceUnavailableError(busy_message or "The ledger is busy with concurrent writes; retry shortly.")
