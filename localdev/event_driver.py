"""Local delivery of outbound events: what Lambda's event source mappings do when deployed.

`make dev` runs `EventDriver` in a background thread: it reads the outbox table's stream on the local
stack (moto server) and hands each batch of records to `event_delivery.fan_out`, then receives the
delivery queue's messages and hands them to `event_delivery.deliver` — the very functions the deployed
`fan_out_events` and `deliver_webhooks` call. Polling is fine here (dev only, never in the API).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from chalicelib import aws, budget, log
from chalicelib.outbound import queue, sender
from chalicelib.services import event_delivery
from chalicelib.settings import settings
from chalicelib.store.base import dynamodb_client
from chalicelib.store.events import EventRecord

logger = log.get_logger("event_driver")


def _streams_client() -> Any:
    limits = budget.derive(settings.lambda_timeout_seconds, settings.stripe_max_network_retries)
    return aws.client("dynamodbstreams", limits.dynamodb, endpoint_url=settings.dynamodb_host)


class EventDriver:
    """Poll the outbox stream and the delivery queue until stopped.

    Each received batch of messages is delivered on a worker pool while the driver goes on receiving
    (as Lambda runs batches concurrently), so a hung receiver holds back nobody else.
    """

    def __init__(self, *, poll_seconds: float = 0.2, timeout: float = sender.TIMEOUT_SECONDS) -> None:
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self._stop = threading.Event()
        self._iterators: dict[str, str | None] = {}
        self._stream_arn: str | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="deliver")
        self._running: set[Future[Any]] = set()

    def start(self) -> EventDriver:
        self._thread = threading.Thread(target=self._run, name="event-driver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pump_stream()
                self.pump_queue()
            except Exception:  # the local stack restarting, tables being recreated: try again
                logger.warning("event driver poll failed", exc_info=True)
                self._stream_arn = None
                self._iterators.clear()
            self._stop.wait(self.poll_seconds)

    def pump_stream(self) -> int:
        """Fan out every new stream record; how many records were read."""
        client = _streams_client()
        arn = self._arn()
        if arn is None:
            return 0
        read = 0
        shards = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = client.get_shard_iterator(
                    StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            answer = client.get_records(ShardIterator=iterator, Limit=100)
            records = answer.get("Records", [])
            if records:
                failed = event_delivery.fan_out(records)
                if failed:
                    # As Lambda does: retry from the first failed record next time.
                    return read
                read += len(records)
            self._iterators[shard_id] = answer.get("NextShardIterator")
        return read

    def _arn(self) -> str | None:
        if self._stream_arn is None:
            table = dynamodb_client().describe_table(TableName=EventRecord.Meta.table_name)["Table"]
            self._stream_arn = table.get("LatestStreamArn")
        return self._stream_arn

    def pump_queue(self) -> int:
        """Receive waiting deliveries and start them; how many messages were received."""
        self._running = {f for f in self._running if not f.done()}
        client = queue.sqs_client()
        answer = client.receive_message(
            QueueUrl=queue.queue_url(), MaxNumberOfMessages=10, VisibilityTimeout=int(self.timeout) + 15
        )
        raw = answer.get("Messages", [])
        if not raw:
            return 0
        messages = [event_delivery.Message(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in raw]
        self._running.add(self._pool.submit(self._deliver, messages))
        return len(messages)

    def _deliver(self, messages: list[event_delivery.Message]) -> None:
        failed = set(event_delivery.deliver(messages, timeout=self.timeout))
        for message in messages:
            if message.message_id not in failed:
                queue.delete(message.receipt_handle)

    def drain(self, seconds: float) -> None:
        """Pump in this thread until `seconds` have passed (tests that drive delivery step by step)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump_stream()
            self.pump_queue()
            time.sleep(self.poll_seconds)
