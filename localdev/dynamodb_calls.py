"""Count the DynamoDB API calls the service makes, with botocore's event hooks (tests and `make bench`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.store.base import all_models, transaction_connection


def _clients() -> list[Any]:
    clients: dict[int, Any] = {}
    for model in all_models():
        client = model._get_connection().connection.client  # type: ignore[attr-defined]
        clients[id(client)] = client
    client = transaction_connection().client
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
