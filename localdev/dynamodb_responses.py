"""Item-bearing responses of the local DynamoDB written at the cost of the items, not of moto's serializer.

moto 5 turns every response into JSON by walking botocore's shape model value by value: a Scan of 1,200
ledger entries took 5 s (a report of 32 Queries about 0.6 s), long enough for botocore's read timeout
to fire. The items of GetItem, Query, Scan, BatchGetItem and TransactGetItems are DynamoDB JSON already
(`{"S": ...}`, `{"N": ...}`, ...), which the shape walk returns unchanged except for binary values. So
`install()` lets moto serialize the rest of such a response (its counts, keys, capacity) and puts the
items in as they are; a response holding a binary value (`B`, `BS`) goes through moto's serializer whole.
"""

from __future__ import annotations

import json
from typing import Any

from moto.dynamodb.responses import DynamoResult

# moto's own implementation (the whole response through the shape walk).
MOTO_EXECUTE_RESULT = DynamoResult.execute_result
# Operation → the response member that holds items.
ITEM_MEMBERS = {
    "GetItem": "Item",
    "Query": "Items",
    "Scan": "Items",
    "BatchGetItem": "Responses",
    "TransactGetItems": "Responses",
}
_BINARY = frozenset({"B", "BS"})


def _plain(value: Any) -> bool:
    """True when `value` (items, lists or maps of attribute values) holds no binary attribute value."""
    if isinstance(value, dict):
        return not (_BINARY & value.keys()) and all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return True


def execute_result(self: DynamoResult, context: Any) -> Any:
    member = ITEM_MEMBERS.get(context.operation_model.name)
    result = self.result
    if member is None or not isinstance(result, dict) or member not in result or not _plain(result[member]):
        return MOTO_EXECUTE_RESULT(self, context)
    rest = {name: value for name, value in result.items() if name != member}
    status, headers, body = MOTO_EXECUTE_RESULT(DynamoResult(rest), context)
    answer = json.loads(body) if body else {}
    answer[member] = result[member]
    return status, headers, json.dumps(answer, separators=(",", ":"))


def install() -> None:
    """Use the item-level serialization in this process's moto DynamoDB responses (idempotent)."""
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]
