"""TransactWriteItems for the local DynamoDB at the cost of the items it touches.

moto backs up every table a transaction names (a deep copy of the whole table) so that it can
restore them when a condition fails: on a stack holding a few thousand ledger entries each order
then costs tens of milliseconds and grows with the data. DynamoDB itself costs what the items
cost. `install()` replaces moto's implementation with one that copies only the items the
transaction touches (at most 100) and puts exactly those back on failure. Semantics are moto's:
the same checks, the same cancellation reasons, and nothing written when any item fails.
The local server serves one request at a time, so no other request can interleave.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

# moto's own implementation, kept for `make bench`'s side-by-side comparison.
MOTO_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items
OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})
# (table, hash key, range key or None, the item as it was before the transaction or None)
Backup = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _key_values(table: Table, key: dict[str, Any]) -> tuple[DynamoType, DynamoType | None]:
    hash_value = DynamoType(key[table.hash_key_attr])
    if table.range_key_attr is None:
        return hash_value, None
    return hash_value, DynamoType(key[table.range_key_attr])


def _restore(backups: list[Backup]) -> None:
    """Put every touched item back as it was (or remove it if it did not exist)."""
    for table, hash_value, range_value, before in reversed(backups):
        if range_value is None:
            if before is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = before  # type: ignore[assignment]
            continue
        rows = table.items[hash_value]
        if before is None:
            rows.pop(range_value, None)
            if not rows:
                table.items.pop(hash_value, None)
        else:
            rows[range_value] = before


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, backing up the touched items instead of whole tables."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    backups: list[Backup] = []
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        original: dict[str, Any] | None = None
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = self.get_table(table_name)
            if op_type == "Put":
                attrs = op["Item"]
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in seen:
                raise MultipleTransactionsException()
            seen.add(unique)

            current = self.get_item(table_name, key)
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original)
            if op_type != "ConditionCheck":
                hash_value, range_value = _key_values(table, key)
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
            if op_type == "Put":
                self.put_item(
                    table_name,
                    op["Item"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    condition_expression=condition,
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            _restore(backups)
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original))
        except Exception as exc:  # moto reports any other failure as that item's cancellation reason
            errors.append((type(exc).__name__, str(exc), original))
    if any(code is not None for code, _, _ in errors):
        _restore(backups)
        raise TransactionCanceledException(errors)


def install() -> None:
    """Use the item-level rollback in this process's moto DynamoDB backend (idempotent)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
