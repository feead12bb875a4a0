"""Bearer tokens are remembered per container, known and unknown alike, in a bounded cache."""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib import clock
from chalicelib.services import api_keys
from chalicelib.settings import settings
from chalicelib.store import api_keys as store
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import auth

CART = json.dumps({"currency": "usd", "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 1}]})


def _eligibility(client: Any, token: str) -> int:
    status: int = client.http.post("/v1/eligibility", body=CART, headers=auth(token)).status_code
    return status


def test_a_repeated_unknown_token_costs_one_dynamodb_read(client: Any, keys: dict[str, str]) -> None:
    with counting_dynamodb_calls() as calls:
        statuses = {_eligibility(client, "stolen") for _ in range(5)}

    assert statuses == {401}
    assert dict(calls) == {"GetItem": 1}


def test_a_key_minted_by_another_container_works_once_the_unknown_answer_expires(
    client: Any, keys: dict[str, str]
) -> None:
    secret = "minted-elsewhere"
    assert _eligibility(client, secret) == 401
    # Another container mints it; this one's cache is not told.
    store.create_key(
        api_keys.key_id_for(secret), api_keys.hash_secret(secret), "storefront", "shop", clock.now()
    )

    later = settings.unknown_key_ttl_seconds + 0.5
    clock.set_monotonic(lambda: time.monotonic() + later)
    try:
        assert _eligibility(client, secret) == 200
    finally:
        clock.set_monotonic(None)
