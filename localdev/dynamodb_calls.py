"""Count the DynamoDB API calls the service makes and record the items its writes touch, with botocore's
event hooks (tests and `make bench`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chalicelib.store.base import all_models, dynamodb_client, transaction_connection


def _clients() -> list[Any]:
    """Every DynamoDB client the models and transactions may use (one per patience, shared by all)."""
    clients: dict[int, Any] = {}
    for model in all_models():
        client = model._get_connection().connection.client  # type: ignore[attr-defined]
        clients[id(client)] = client
    shared = (transaction_connection().client, dynamodb_client("standard"), dynamodb_client("eligibility"))
    for client in shared:
        clients[id(client)] = client
    return list(clients.values())


@contextmanager
def counting_dynamodb_calls() -> Iterator[Counter[str]]:
    """Within the block, `counter[operation]` is how many times each DynamoDB operation was called."""
    counter: Counter[str] = Counter()

    def count(model: Any, **kwargs: Any) -> None:
        counter[model.name] += 1

    clients = _clients()
    for client in clients:
        client.meta.events.register("before-call.dynamodb.*", count)
    try:
        yield counter
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.dynamodb.*", count)


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """One item a DynamoDB write request put, updated or deleted (inside a transaction or a batch too)."""

    operation: str
    table: str
    key: dict[str, Any]  # the item's key attributes, DynamoDB JSON
    item: dict[str, Any] | None  # the whole item for puts (their index keys), else None


_ITEM_ACTIONS = {"Put": "Item", "Update": "Key", "Delete": "Key"}


def _item_writes(operation: str, params: dict[str, Any], keys: dict[str, tuple[str, ...]]) -> list[ItemWrite]:
    def one(kind: str, table: str, body: dict[str, Any]) -> ItemWrite:
        attributes = body[_ITEM_ACTIONS[kind]]
        key = {name: attributes[name] for name in keys.get(table, tuple(attributes))}
        return ItemWrite(operation, table, key, attributes if kind == "Put" else None)

    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        kind = operation.removesuffix("Item")
        return [one(kind, params["TableName"], params)]
    if operation == "TransactWriteItems":
        return [
            one(kind, body["TableName"], body)
            for action in params["TransactItems"]
            for kind, body in action.items()
            if kind in _ITEM_ACTIONS  # a ConditionCheck writes nothing
        ]
    if operation == "BatchWriteItem":
        writes = []
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    writes.append(one("Put", table, request["PutRequest"]))
                else:
                    writes.append(one("Delete", table, request["DeleteRequest"]))
        return writes
    return []


def key_schemas() -> dict[str, tuple[str, ...]]:
    """Table name → its key attribute names (hash first), from the models."""
    schemas = {}
    for model in all_models():
        names = [model._hash_key_attribute().attr_name]  # type: ignore[attr-defined]
        if model._range_key_attribute() is not None:  # type: ignore[attr-defined]
            names.append(model._range_key_attribute().attr_name)  # type: ignore[attr-defined]
        schemas[model.Meta.table_name] = tuple(names)  # type: ignore[attr-defined]
    return schemas


@contextmanager
def recording_dynamodb_writes() -> Iterator[list[ItemWrite]]:
    """Within the block, every item every DynamoDB write request touches, in order (retries included)."""
    writes: list[ItemWrite] = []
    keys = key_schemas()

    def record(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        writes.extend(_item_writes(model.name, params, keys))

    clients = _clients()
    for client in clients:
        client.meta.events.register("before-parameter-build.dynamodb.*", record)
    try:
        yield writes
    finally:
        for client in clients:
            client.meta.events.unregister("before-parameter-build.dynamodb.*", record)
