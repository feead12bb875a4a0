"""The deployed functions' handlers, given the event shapes Lambda's event source mappings send."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.events.conftest import emit, stream_records


def test_fan_out_then_delivery_report_partial_batch_failures(brand: Any, receivers: Any) -> None:
    from chalicelib.api.event_functions import deliver_webhooks, fan_out_events
    from chalicelib.outbound import queue

    failing, healthy = receivers(statuses=[500] * 5), receivers()
    failing_endpoint = brand.register(failing.url)
    brand.register(healthy.url)
    event = emit()

    assert fan_out_events({"Records": stream_records()}, None) == {"batchItemFailures": []}
    received = queue.sqs_client().receive_message(QueueUrl=queue.queue_url(), MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert len(received) == 2  # one per endpoint
    sqs_event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "eventSource": "aws:sqs"} for m in received]}  # fmt: skip
    answer = deliver_webhooks(sqs_event, None)

    (failed,) = answer["batchItemFailures"]
    failed_body = next(m["Body"] for m in received if m["MessageId"] == failed["itemIdentifier"])
    assert json.loads(failed_body)["endpoint_id"] == failing_endpoint["id"]
    assert [r.headers["webhook-id"] for r in healthy.received] == [event.id]
    assert [r.headers["webhook-id"] for r in failing.received] == [event.id]


def test_a_record_that_is_not_an_insert_is_skipped(brand: Any, receivers: Any) -> None:
    from chalicelib.api.event_functions import fan_out_events

    brand.register(receivers().url)
    removed = {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "1", "OldImage": {}}}
    assert fan_out_events({"Records": [removed]}, None) == {"batchItemFailures": []}


def test_after_the_last_attempt_the_delivery_is_failed_and_dead_lettered(brand: Any, receivers: Any) -> None:
    from chalicelib import clock
    from chalicelib.api.event_functions import deliver_webhooks, fan_out_events
    from chalicelib.outbound import queue
    from chalicelib.services.event_delivery import MAX_ATTEMPTS
    from chalicelib.store import webhook_endpoints as store

    receiver = receivers(statuses=[500] * 20)
    endpoint = brand.register(receiver.url)
    event = emit()
    fan_out_events({"Records": stream_records()}, None)
    for _ in range(MAX_ATTEMPTS - 1):  # eight attempts failed before, over the last day and a half
        store.record_attempt(endpoint["id"], event.id, status="pending", at=clock.now(), status_code=500,
                             next_attempt_at=clock.now())  # fmt: skip
    client = queue.sqs_client()
    (message,) = client.receive_message(QueueUrl=queue.queue_url(), MaxNumberOfMessages=10)["Messages"]
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
    }

    assert deliver_webhooks({"Records": [record]}, None) == {"batchItemFailures": []}

    delivery = store.get_delivery(endpoint["id"], event.id)
    assert delivery is not None
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    (dead,) = client.receive_message(QueueUrl=queue.dead_letter_queue_url(), MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert json.loads(dead["Body"]) == {
        "endpoint_id": endpoint["id"],
        "event_id": event.id,
        "attempts": MAX_ATTEMPTS,
    }
