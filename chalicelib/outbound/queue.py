"""The SQS queue of webhook deliveries (one message per endpoint × event) and its dead-letter queue.

Deployed, the queue URLs come from the environment (`DELIVERY_QUEUE_URL`, `DELIVERY_DLQ_URL`); locally
both queues live on the local stack (moto server, the DynamoDB endpoint) under the stage's table prefix.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chalicelib import aws, budget
from chalicelib.settings import settings

QUEUE_NAME = "webhook-deliveries"
DEAD_LETTER_QUEUE_NAME = "webhook-deliveries-dlq"
# SQS keeps a message invisible for at most 12 hours; the longest wait of the schedule is 10 hours.
MAX_VISIBILITY_SECONDS = 12 * 3600
MAX_DELAY_SECONDS = 900


def sqs_client() -> Any:
    limits = budget.derive(settings.lambda_timeout_seconds, settings.stripe_max_network_retries)
    return aws.client("sqs", limits.dynamodb, endpoint_url=settings.dynamodb_host)


@cache
def _local_url(name: str) -> str:
    return str(sqs_client().get_queue_url(QueueName=f"{settings.table_prefix}-{name}")["QueueUrl"])


def queue_url() -> str:
    return settings.delivery_queue_url or _local_url(QUEUE_NAME)


def dead_letter_queue_url() -> str:
    return settings.delivery_dead_letter_queue_url or _local_url(DEAD_LETTER_QUEUE_NAME)


def create_local_queues() -> None:
    """Local runs and tests: both queues on the local stack (the DLQ receives what the worker gives up on)."""
    client = sqs_client()
    client.create_queue(QueueName=f"{settings.table_prefix}-{DEAD_LETTER_QUEUE_NAME}")
    client.create_queue(QueueName=f"{settings.table_prefix}-{QUEUE_NAME}")
    _local_url.cache_clear()


def send_deliveries(pairs: list[tuple[str, str]]) -> None:
    """Queue one delivery per (endpoint id, event id), ten per call (SQS's batch size)."""
    client = sqs_client()
    url = queue_url()
    for start in range(0, len(pairs), 10):
        chunk = pairs[start : start + 10]
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"endpoint_id": e, "event_id": v})}
            for i, (e, v) in enumerate(chunk)
        ]
        answer = client.send_message_batch(QueueUrl=url, Entries=entries)
        if answer.get("Failed"):
            raise QueueError(f"SQS refused {len(answer['Failed'])} of {len(entries)} deliveries")


def retry_later(receipt_handle: str, delay_seconds: int) -> None:
    """Let SQS hand the message back after `delay_seconds` (the worker reports it as failed)."""
    sqs_client().change_message_visibility(
        QueueUrl=queue_url(),
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=min(delay_seconds, MAX_VISIBILITY_SECONDS),
    )


def dead_letter(body: str) -> None:
    sqs_client().send_message(QueueUrl=dead_letter_queue_url(), MessageBody=body)


def delete(receipt_handle: str) -> None:
    sqs_client().delete_message(QueueUrl=queue_url(), ReceiptHandle=receipt_handle)


class QueueError(RuntimeError):
    """SQS refused a message; the caller's batch is retried."""
