"""Delivering outbound events: fan-out from the outbox's stream, then one SQS message per endpoint × event.

`fan_out` takes a batch of DynamoDB stream records (the Lambda event source mapping deployed, the local
driver in `make dev`) and queues a delivery for every enabled endpoint subscribed to each new event.
`deliver` takes a batch of SQS messages and makes one attempt per message, all at once, so one slow
or dead receiver never holds back another endpoint. A failed attempt comes back after the SPEC's
backoff (the message's visibility), and after the last one the delivery is `failed` and its message
goes to the dead-letter queue.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import clock, log
from chalicelib.domain.events import subscribed
from chalicelib.outbound import queue, sender
from chalicelib.settings import settings
from chalicelib.store import events as outbox
from chalicelib.store import webhook_endpoints as store

logger = log.get_logger("webhooks")

# After each failed attempt, the wait before the next one (SPEC): at once, 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h; the attempt after the last wait is the last.
RETRY_DELAYS = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
# Stages whose endpoints may be plain http:// on loopback (the developer's own receiver).
LOOPBACK_STAGES = frozenset({"local", "test"})


def allow_loopback() -> bool:
    return settings.stage in LOOPBACK_STAGES


# --- fan-out ----------------------------------------------------------------------------------------


def fan_out(records: list[dict[str, Any]]) -> list[str]:
    """Queue the deliveries of each new event in a batch of stream records.

    Returns the sequence numbers to report as failed (Lambda retries the batch from the first one):
    empty when every record was handled. The endpoints are read fresh for each batch, so a change to
    one applies to the next event.
    """
    endpoints = store.list_endpoints()
    now = clock.now()
    for index, record in enumerate(records):
        if record.get("eventName") != "INSERT":
            continue
        image = record.get("dynamodb", {}).get("NewImage") or {}
        try:
            event = outbox.event_from_body(image["body"]["S"])
            pairs = [
                (endpoint.endpoint_id, event.id)
                for endpoint in endpoints
                if endpoint.enabled
                and subscribed(endpoint.events, event.type)
                and endpoint.created_at <= event.created_at
                and store.start_delivery(endpoint.endpoint_id, event.id, event.type, now)
            ]
            queue.send_deliveries(pairs)
        except Exception:
            logger.exception("fan-out failed", extra={"event_id": image.get("event_id", {}).get("S")})
            return [str(r.get("dynamodb", {}).get("SequenceNumber")) for r in records[index:]]
    return []


# --- delivery -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One SQS message as the worker needs it (Lambda's record or the local driver's receive)."""

    message_id: str
    receipt_handle: str
    body: str


def messages_of(sqs_event: dict[str, Any]) -> list[Message]:
    """The messages of a Lambda SQS event."""
    return [Message(r["messageId"], r["receiptHandle"], r["body"]) for r in sqs_event.get("Records", [])]


def deliver(messages: list[Message], *, timeout: float = sender.TIMEOUT_SECONDS) -> list[str]:
    """Attempt every message's delivery at once; the ids of the messages to hand back later."""
    if not messages:
        return []
    with ThreadPoolExecutor(max_workers=len(messages)) as pool:
        outcomes = list(pool.map(lambda m: _deliver_one(m, timeout), messages))
    return [m.message_id for m, done in zip(messages, outcomes, strict=True) if not done]


def _deliver_one(message: Message, timeout: float) -> bool:
    """True when the message is finished with (delivered, given up, or nothing to deliver)."""
    try:
        wanted = json.loads(message.body)
        endpoint_id, event_id = str(wanted["endpoint_id"]), str(wanted["event_id"])
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable delivery message", extra={"message_id": message.message_id})
        return True
    try:
        return _attempt(message, endpoint_id, event_id, timeout)
    except Exception:
        # Storage or SQS failed around the attempt: the message comes back after its visibility timeout.
        logger.exception("delivery attempt failed", extra={"endpoint_id": endpoint_id, "event_id": event_id})
        return False


def _attempt(message: Message, endpoint_id: str, event_id: str, timeout: float) -> bool:
    endpoint = store.get_endpoint(endpoint_id)
    event = outbox.get_event(event_id)
    if endpoint is None or event is None:
        # The endpoint was deleted, or the event expired: nothing to send.
        return True
    if not endpoint.enabled:
        # Disabled since it was queued: listed as failed, and a replay after re-enabling sends it again.
        store.stop_delivery(endpoint_id, event_id)
        return True
    now = clock.now()
    body = outbox.encode(event)
    headers = sender.signed_headers(endpoint.signing_secrets(now), event.id, now, body)
    outcome = sender.post(endpoint.url, body, headers, allow_loopback=allow_loopback(), timeout=timeout)
    fields = {"endpoint_id": endpoint_id, "event_id": event_id, "status_code": outcome.status_code}
    if outcome.delivered:
        store.record_attempt(
            endpoint_id, event_id, status="succeeded", at=now, status_code=outcome.status_code,
            next_attempt_at=None,
        )  # fmt: skip
        logger.info("webhook delivered", extra=fields)
        return True
    attempts = _record_failure(endpoint_id, event_id, now, outcome)
    logger.warning("webhook attempt failed", extra={**fields, "attempts": attempts, "error": outcome.error})
    if attempts >= MAX_ATTEMPTS:
        queue.dead_letter(
            json.dumps({"endpoint_id": endpoint_id, "event_id": event_id, "attempts": attempts})
        )
        logger.error("webhook delivery failed", extra={**fields, "attempts": attempts})
        return True
    queue.retry_later(message.receipt_handle, RETRY_DELAYS[attempts - 1])
    return False


def _record_failure(endpoint_id: str, event_id: str, now: datetime, outcome: sender.Outcome) -> int:
    before = store.get_delivery(endpoint_id, event_id)
    attempts = (before.attempts if before else 0) + 1
    last = attempts >= MAX_ATTEMPTS
    return store.record_attempt(
        endpoint_id,
        event_id,
        status="failed" if last else "pending",
        at=now,
        status_code=outcome.status_code,
        next_attempt_at=None if last else now + timedelta(seconds=RETRY_DELAYS[attempts - 1]),
    )
