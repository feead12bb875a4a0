"""Create (or recreate) every table of the service in the local DynamoDB (moto server)."""

from __future__ import annotations

from chalicelib.store.base import all_models


def create_tables() -> None:
    for model in all_models():
        if not model.exists():  # type: ignore[attr-defined]
            model.create_table(wait=True)  # type: ignore[attr-defined]
