"""The two functions that deliver outbound events (deployed beside the API, wired in `infra/stack.py`).

`fan_out_events` reads the outbox table's DynamoDB Stream (event source mapping); `deliver_webhooks`
reads the SQS queue of deliveries. Both report partial batch failures, so one bad record or message is
retried alone; the local driver (`localdev.event_driver`) calls the same services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api import lazy

if TYPE_CHECKING:
    from chalicelib.services import event_delivery
else:  # imported by the first batch, not by the API's cold start (api/lazy.py)
    event_delivery = lazy.module("chalicelib.services.event_delivery")

event_functions = Blueprint(__name__)


@event_functions.lambda_function(name="fan_out_events")
def fan_out_events(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failed = event_delivery.fan_out(event.get("Records", []))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@event_functions.lambda_function(name="deliver_webhooks")
def deliver_webhooks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failed = event_delivery.deliver(event_delivery.messages_of(event))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
