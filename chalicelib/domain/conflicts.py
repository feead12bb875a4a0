"""What a unit of work's commit can refuse, as our own errors (every unit of work raises these).

Two families: a natural id recorded before (`...ExistsError`, carrying what was recorded so the caller
answers without reading it again), and a lost race (`LostRaceError`: another writer changed what was
loaded; load again, decide again, commit again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a recorded request was and answered (the natural id's first success)."""

    request_hash: str
    response: dict[str, Any]
    # The request that recorded it (None outside requests).
    request_id: str | None = None


class AlreadyRecordedError(Exception):
    """A natural id was recorded before; `recorded` is what it holds (None when the store could not say)."""

    def __init__(self, recorded: Recorded | None = None) -> None:
        super().__init__(recorded)
        self.recorded = recorded


class DuplicateOrderError(AlreadyRecordedError):
    """The order id was recorded before."""


class DuplicateRefundError(AlreadyRecordedError):
    """The refund id was recorded before for this order."""


class DuplicateDisbursementError(AlreadyRecordedError):
    """The disbursement id was recorded before."""


class DisbursementAlreadyVoidedError(Exception):
    """The disbursement was voided before (a void is never repeated)."""

    def __init__(self, disbursement_id: str) -> None:
        super().__init__(disbursement_id)
        self.disbursement_id = disbursement_id


class PayoutOverdueRecordedError(Exception):
    """The cause's current overdue stretch was recorded (and announced) before."""

    def __init__(self, cause_id: str, currency: str) -> None:
        super().__init__(cause_id, currency)
        self.cause_id = cause_id
        self.currency = currency


class EventAlreadyAppliedError(Exception):
    """The Stripe event was applied before: nothing to do."""


class GiftRedeemedError(Exception):
    """The gift (its code the argument) was redeemed before."""


class LedgerEntryExistsError(Exception):
    """A ledger entry of this commit was recorded before (by another path); its id is the argument."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id)
        self.entry_id = entry_id


class LostRaceError(Exception):
    """Another writer changed what this unit of work loaded: load again and decide again."""


class StaleMemberError(LostRaceError):
    """The shopper changed since it was loaded (version check)."""


class StaleOrderError(LostRaceError):
    """The order changed since it was loaded (a concurrent refund)."""


class StaleHistoryError(LostRaceError):
    """The shopper's counting history changed since it was read (a concurrent order)."""


class BalanceChangedError(LostRaceError):
    """Another disbursement changed the cause's paid-out sum since it was read."""


class EventIdTakenError(LostRaceError):
    """An outbound event's id was taken (ids carry random digits: decide again, with new ids)."""


class BusyError(LostRaceError):
    """DynamoDB cancelled the commit because another transaction touched the same items at that moment."""
