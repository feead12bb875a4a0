"""One TransactWriteItems built from tagged items: each item names the error its failed condition means.

    tx = Transaction()
    tx.put(order_record, on_conflict=duplicate_order)        # version condition: must not exist yet
    tx.update(totals_item, actions=[...])                    # no condition: cannot fail alone
    tx.commit()

`commit` sends the items in one call with the request's `ClientRequestToken` (a call botocore retries
after losing its answer commits once), asks DynamoDB to return the item as it was when a tagged item's
condition fails (`ReturnValuesOnConditionCheckFailure=ALL_OLD`, so a duplicate answers without a second
read), and turns the cancellation reason of each item into that item's error. Another transaction in
the way (`TransactionConflict`) is `BusyError`, a lost race; anything else is a storage failure.

An item of a write-sharded counter of a rolled-up kind (`StampedCounters`) also ADDs 1 to its period's
change stamp on its shard (`store/stamps.py`), once per transaction whatever number of that period's
counters it changes: DynamoDB refuses two operations on one item in a transaction, and reports compare
the stamps with their rollups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import invocation
from chalicelib.domain.conflicts import BusyError, LostRaceError
from chalicelib.store.base import storage_errors, transaction_connection
from chalicelib.store.stamps import StampedCounters, StampRecord, stamp_actions, stamp_item

# The error a failed condition means, built from the item as it was (None when DynamoDB did not say).
OnConflict = Callable[[Any], Exception]
Kind = Literal["put", "update", "delete"]
# pynamodb sends condition checks, deletes, puts, then updates, whatever order they were added in.
_SENT_ORDER: dict[Kind, int] = {"delete": 0, "put": 1, "update": 2}
CONDITION_FAILED = "ConditionalCheckFailed"


@dataclass(frozen=True, slots=True)
class _Item:
    kind: Kind
    model: Model
    condition: Condition | None
    actions: list[Action] | None
    on_conflict: OnConflict | None


class Transaction:
    """The tagged items of one commit, in the order they were added."""

    def __init__(self) -> None:
        self._items: list[_Item] = []
        # (scope, key) of each change stamp item → the numbers it ADDs 1 to
        self._stamps: dict[tuple[str, str], set[str]] = {}

    def __len__(self) -> int:
        return len(self._items) + len(self._stamps)

    def _stamp(self, item: Model) -> None:
        if not isinstance(item, StampedCounters):
            return
        stamp = item.change_stamp()
        if stamp is not None:
            scope, key, attribute = stamp_item(stamp)
            self._stamps.setdefault((scope, key), set()).add(attribute)

    def put(
        self, item: Model, condition: Condition | None = None, on_conflict: OnConflict | None = None
    ) -> None:
        """Write a whole item (a versioned model adds its own version condition)."""
        self._items.append(_Item("put", item, condition, None, on_conflict))
        self._stamp(item)

    def update(
        self,
        item: Model,
        actions: list[Action],
        condition: Condition | None = None,
        on_conflict: OnConflict | None = None,
    ) -> None:
        self._items.append(_Item("update", item, condition, actions, on_conflict))
        self._stamp(item)

    def delete(
        self, item: Model, condition: Condition | None = None, on_conflict: OnConflict | None = None
    ) -> None:
        self._items.append(_Item("delete", item, condition, None, on_conflict))
        self._stamp(item)

    def commit(self) -> None:
        """Send every item in one TransactWriteItems; raise the tagged error of a failed condition."""
        if not self._items:
            return
        stamps = [
            _Item("update", StampRecord(scope, key), None, stamp_actions(attributes), None)
            for (scope, key), attributes in sorted(self._stamps.items())
        ]
        sent = sorted(self._items + stamps, key=lambda item: _SENT_ORDER[item.kind])
        with storage_errors():
            try:
                with TransactWrite(
                    connection=transaction_connection(),
                    client_request_token=invocation.client_request_token(),
                ) as transaction:
                    for item in sent:
                        old = "ALL_OLD" if item.on_conflict is not None else None
                        if item.kind == "put":
                            transaction.save(item.model, condition=item.condition, return_values=old)
                        elif item.kind == "update":
                            transaction.update(
                                item.model,
                                actions=item.actions or [],
                                condition=item.condition,
                                return_values=old,
                            )
                        else:
                            transaction.delete(item.model, condition=item.condition)
            except TransactWriteError as exc:
                error = _translated(exc, sent)
                if error is exc:
                    raise
                raise error from exc


def _translated(exc: TransactWriteError, sent: list[_Item]) -> Exception:
    """The error of a tagged item whose condition failed, else BusyError for a conflict, else the storage
    error itself.

    DynamoDB reports every item whose condition failed. A fact recorded before wins over a lost race (a
    duplicate event also finds the shopper changed, by its own first delivery): retrying would fail the
    same way, while the duplicate has its answer.
    """
    reasons = exc.cancellation_reasons
    errors = []
    for item, reason in zip(sent, reasons, strict=False):
        if reason is not None and reason.code == CONDITION_FAILED and item.on_conflict is not None:
            old = type(item.model).from_raw_data(reason.raw_item) if reason.raw_item else None
            errors.append(item.on_conflict(old))
    if errors:
        return next((error for error in errors if not isinstance(error, LostRaceError)), errors[0])
    if any(reason is not None and reason.code == "TransactionConflict" for reason in reasons):
        return BusyError()
    return exc
