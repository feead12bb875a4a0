"""Transient failures (worth a retry) are 502/503 with `Retry-After`; permanent ones are 500 `internal`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from botocore.exceptions import ReadTimeoutError

from chalicelib import log
from chalicelib.store import idempotency
from chalicelib.store.base import StorageFailedError
from chalicelib.store.catalog import CatalogRecord
from tests.helpers import BRAND_KEY, auth

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def dynamodb_reads_time_out() -> Iterator[None]:
    """Every Query of the catalog times out, as a hung DynamoDB connection would."""

    def time_out(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="http://dynamodb")

    events = CatalogRecord._get_connection().connection.client.meta.events
    events.register("before-send.dynamodb.Query", time_out)
    yield
    events.unregister("before-send.dynamodb.Query", time_out)


def test_a_dynamodb_timeout_is_503_with_retry_after(client: Any, dynamodb_reads_time_out: None) -> None:
    response = client.http.get("/v1/plans")

    assert response.status_code == 503
    assert json.loads(response.body)["error"]["type"] == "upstream"
    assert response.headers["Retry-After"] == "1"


def test_a_refused_dynamodb_call_is_500_internal_carrying_the_logged_request_id(
    client: Any, dynamodb_url: str
) -> None:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(log.JsonFormatter())
    logging.getLogger("vip").addHandler(handler)
    CatalogRecord.delete_table()  # a deployment missing its table: retrying cannot help
    try:
        response = client.http.get("/v1/plans")
    finally:
        logging.getLogger("vip").removeHandler(handler)

    error = json.loads(response.body)["error"]
    request_id = response.headers["X-Request-Id"]
    assert (response.status_code, error["type"]) == (500, "internal")
    assert "Retry-After" not in response.headers
    assert request_id in error["message"]
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert {"dynamodb refused a request", "request failed"} <= {
        line["message"] for line in logged if line.get("request_id") == request_id
    }


def test_an_item_over_dynamodbs_size_limit_is_a_permanent_storage_error(dynamodb_url: str) -> None:
    with pytest.raises(StorageFailedError):
        idempotency.save_response("k", "fp", 200, "x" * 410_000, "application/json", NOW + timedelta(days=1))


PLAN = {"name": "VIP", "amount": 999, "currency": "usd", "interval": "month"}


def _put_plan(client: Any) -> Any:
    return client.http.put("/v1/plans/vip", body=json.dumps(PLAN), headers=auth(BRAND_KEY))


def test_stripe_unreachable_is_502_with_retry_after(
    client: Any, keys: dict[str, str], stripe_down: None
) -> None:
    response = _put_plan(client)

    assert (response.status_code, response.headers["Retry-After"]) == (502, "2")
    assert CatalogRecord.count("PLAN") == 0


def test_stripe_refusing_our_key_is_500_internal_and_nothing_is_written(
    client: Any, keys: dict[str, str]
) -> None:
    from chalicelib.payments.client import stripe_config, use_stripe

    with use_stripe(msgspec.structs.replace(stripe_config(), api_key="not-a-stripe-key")):
        response = _put_plan(client)

    assert (response.status_code, json.loads(response.body)["error"]["type"]) == (500, "internal")
    assert "Retry-After" not in response.headers
    assert CatalogRecord.count("PLAN") == 0
