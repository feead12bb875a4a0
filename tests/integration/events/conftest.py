"""Outbound events over real HTTP: receivers on free loopback ports, the local delivery driver, events
written to the outbox through the store (the facts' own wiring comes with the use cases)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from localdev.webhook_receiver import WebhookReceiver
from tests.helpers import BRAND_KEY, auth


@pytest.fixture
def receivers() -> Iterator[Callable[..., WebhookReceiver]]:
    """Start receivers that answer the scripted statuses in turn (then 200), `hang` seconds before each answer."""
    started: list[WebhookReceiver] = []

    def start(statuses: list[int] | None = None, hang: float = 0.0) -> WebhookReceiver:
        script = list(statuses or [])
        receiver = WebhookReceiver(lambda _: script.pop(0) if script else 200, hang=hang)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def driver() -> Iterator[Any]:
    """The local delivery driver (as `make dev` runs it), with a 3 s receiver timeout to keep tests short."""
    from localdev.event_driver import EventDriver

    running = EventDriver(poll_seconds=0.1, timeout=3.0).start()
    yield running
    running.stop()


@dataclass
class Brand:
    client: Any

    def call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        send = getattr(self.client.http, method.lower())
        if payload is None:
            return send(path, headers=auth(BRAND_KEY))
        return send(path, body=json.dumps(payload), headers=auth(BRAND_KEY))

    def register(self, url: str, events: list[str] | None = None) -> dict[str, Any]:
        response = self.call("POST", "/v1/webhook_endpoints", {"url": url, "events": events or ["*"]})
        assert response.status_code == 201, response.body
        created: dict[str, Any] = json.loads(response.body)
        return created


@pytest.fixture
def brand(client: Any, keys: dict[str, str]) -> Brand:
    return Brand(client)


def emit(
    event_type: str = "member.joined",
    customer_ref: str | None = "shopper-1",
    sequence: int | None = 1,
    at: datetime | None = None,
    **extra: Any,
) -> Any:
    """Write one event to the outbox, as a fact's transaction will."""
    from chalicelib import clock
    from chalicelib.domain.events import Moment, event_of, new_event_id
    from chalicelib.store.events import put_event

    now = at or clock.now()
    event = event_of(
        Moment(type=event_type), event_id=new_event_id(now), created_at=now, customer_ref=customer_ref,
        sequence=sequence, membership={"customer_ref": customer_ref, "status": "active"},
    )  # fmt: skip
    event.data.update(extra)
    put_event(event)
    return event


def stream_records() -> list[dict[str, Any]]:
    """Every record of the outbox table's stream on the local stack (what the stream mapping batches)."""
    from chalicelib.store.base import dynamodb_client
    from chalicelib.store.events import EventRecord
    from localdev.event_driver import _streams_client

    client = _streams_client()
    arn = dynamodb_client().describe_table(TableName=EventRecord.Meta.table_name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        records += client.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records
