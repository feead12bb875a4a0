"""Create (or recreate) every table of the service in the local DynamoDB (moto server), and the webhook
delivery queues beside them."""

from __future__ import annotations

from chalicelib.outbound.queue import create_local_queues
from chalicelib.store.base import all_models


def create_tables() -> None:
    for model in all_models():
        if not model.exists():  # type: ignore[attr-defined]
            model.create_table(wait=True)  # type: ignore[attr-defined]
    create_local_queues()
