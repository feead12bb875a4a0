"""The brand's webhook endpoints (`webhook-endpoints` table) and each event's delivery to each endpoint
(`webhook-deliveries` table: one item per endpoint × event, newest first by event id).

Signing secrets are stored as they are, since delivery must sign with them (a hash could not sign): the
table is encrypted at rest by DynamoDB, readable only by the service's role, and a secret leaves the
service only in the answer that created it (create, rotate), never in a list, a get or a log line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import msgspec
from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError

from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors, translated
from chalicelib.store.events import EVENT_RETENTION

# A brand registers a handful of endpoints; this bounds the fan-out read of every event.
MAX_ENDPOINTS = 50


class SigningSecret(msgspec.Struct, frozen=True):
    secret: str
    # Unix seconds after which a rotated-out secret no longer signs; None: the current secret.
    expires_at: int | None = None


class WebhookEndpointRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("webhook-endpoints")

    endpoint_id = UnicodeAttribute(hash_key=True)
    url = UnicodeAttribute()
    events = UnicodeSetAttribute()
    enabled = BooleanAttribute()
    description = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # JSON list of SigningSecret: the current one first, then one rotated out for its last 24 h.
    signing_secrets = UnicodeAttribute()


@dataclass(frozen=True, slots=True)
class Endpoint:
    endpoint_id: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    description: str | None
    created_at: datetime
    updated_at: datetime
    secrets: tuple[SigningSecret, ...]

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery at `now` (two for 24 h after a rotation)."""
        moment = now.timestamp()
        return [s.secret for s in self.secrets if s.expires_at is None or moment < s.expires_at]


def _endpoint(record: WebhookEndpointRecord) -> Endpoint:
    return Endpoint(
        endpoint_id=record.endpoint_id,
        url=record.url,
        events=tuple(sorted(record.events)),
        enabled=record.enabled,
        description=record.description,
        created_at=record.created_at,
        updated_at=record.updated_at,
        secrets=tuple(msgspec.json.decode(record.signing_secrets, type=list[SigningSecret])),
    )


def _secrets_json(secrets: tuple[SigningSecret, ...] | list[SigningSecret]) -> str:
    return msgspec.json.encode(list(secrets)).decode()


def _record(endpoint: Endpoint) -> WebhookEndpointRecord:
    return WebhookEndpointRecord(
        endpoint.endpoint_id,
        url=endpoint.url,
        events=set(endpoint.events),
        enabled=endpoint.enabled,
        description=endpoint.description,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        signing_secrets=_secrets_json(endpoint.secrets),
    )


def create_endpoint(endpoint: Endpoint) -> None:
    record = _record(endpoint)
    try:
        record.save(condition=WebhookEndpointRecord.endpoint_id.does_not_exist())
    except PutError as exc:
        raise translated(exc) from exc


def get_endpoint(endpoint_id: str) -> Endpoint | None:
    with storage_errors():
        try:
            return _endpoint(WebhookEndpointRecord.get(endpoint_id, consistent_read=True))
        except WebhookEndpointRecord.DoesNotExist:
            return None


def list_endpoints() -> list[Endpoint]:
    """Every endpoint, oldest first (a consistent scan of a small table: a change is seen at once)."""
    with storage_errors():
        found = [_endpoint(r) for r in WebhookEndpointRecord.scan(consistent_read=True)]
    return sorted(found, key=lambda e: (e.created_at, e.endpoint_id))


def save_endpoint(endpoint: Endpoint) -> None:
    """Replace an existing endpoint (PATCH, rotation); it must still exist."""
    record = _record(endpoint)
    with storage_errors():
        record.save(condition=WebhookEndpointRecord.endpoint_id.exists())


def delete_endpoint(endpoint_id: str) -> None:
    with storage_errors():
        WebhookEndpointRecord(endpoint_id).delete()


# --- deliveries ------------------------------------------------------------------------------------


class DeliveryRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("webhook-deliveries")

    endpoint_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    type = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | succeeded | failed
    attempts = NumberAttribute(default=0)
    last_attempt_at = UTCDateTimeAttribute(null=True)
    last_status_code = NumberAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


class Delivery(msgspec.Struct, kw_only=True):
    event_id: str
    type: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None
    next_attempt_at: datetime | None


def _delivery(record: DeliveryRecord) -> Delivery:
    return Delivery(
        event_id=record.event_id,
        type=record.type,
        status=record.status,
        attempts=int(record.attempts or 0),
        last_attempt_at=record.last_attempt_at,
        last_status_code=int(record.last_status_code) if record.last_status_code is not None else None,
        next_attempt_at=record.next_attempt_at,
    )


def start_delivery(endpoint_id: str, event_id: str, event_type: str, now: datetime) -> bool:
    """Record a new pending delivery; False when one exists that has already been attempted.

    A stream record seen twice then queues its delivery once more only if the first time never got
    as far as an attempt (the message may have been lost between the two writes).
    """
    record = DeliveryRecord(
        endpoint_id, event_id, type=event_type, status="pending", attempts=0, next_attempt_at=now,
        expires_at=now + EVENT_RETENTION,
    )  # fmt: skip
    try:
        record.save(condition=DeliveryRecord.event_id.does_not_exist() | (DeliveryRecord.attempts == 0))
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise translated(exc) from exc
    return True


def requeue_delivery(endpoint_id: str, event_id: str, event_type: str, now: datetime) -> None:
    """A replay: the delivery is pending again, with a fresh run of attempts."""
    with storage_errors():
        DeliveryRecord(endpoint_id, event_id).update(
            actions=[
                DeliveryRecord.type.set(event_type),
                DeliveryRecord.status.set("pending"),
                DeliveryRecord.attempts.set(0),
                DeliveryRecord.next_attempt_at.set(now),
                DeliveryRecord.expires_at.set(now + EVENT_RETENTION),
            ]
        )


def record_attempt(
    endpoint_id: str,
    event_id: str,
    *,
    status: str,
    at: datetime,
    status_code: int | None,
    next_attempt_at: datetime | None,
) -> int:
    """Count one attempt and its outcome; the number of attempts so far."""
    with storage_errors():
        record = DeliveryRecord(endpoint_id, event_id)
        record.update(
            actions=[
                DeliveryRecord.attempts.add(1),
                DeliveryRecord.status.set(status),
                DeliveryRecord.last_attempt_at.set(at),
                DeliveryRecord.last_status_code.set(status_code)
                if status_code is not None
                else DeliveryRecord.last_status_code.remove(),
                DeliveryRecord.next_attempt_at.set(next_attempt_at)
                if next_attempt_at is not None
                else DeliveryRecord.next_attempt_at.remove(),
            ]
        )
    return int(record.attempts)


def stop_delivery(endpoint_id: str, event_id: str) -> None:
    """The endpoint was disabled: the delivery is `failed` without another attempt (replay resends it)."""
    with storage_errors():
        DeliveryRecord(endpoint_id, event_id).update(
            actions=[DeliveryRecord.status.set("failed"), DeliveryRecord.next_attempt_at.remove()],
            condition=DeliveryRecord.event_id.exists(),
        )


def get_delivery(endpoint_id: str, event_id: str) -> Delivery | None:
    with storage_errors():
        try:
            return _delivery(DeliveryRecord.get(endpoint_id, event_id, consistent_read=True))
        except DeliveryRecord.DoesNotExist:
            return None


def list_deliveries(
    endpoint_id: str, *, limit: int, status: str | None = None, starting_after: str | None = None
) -> tuple[list[Delivery], bool]:
    """An endpoint's deliveries, newest event first; the cursor is an event id."""
    found: list[Delivery] = []
    for record in _deliveries(endpoint_id, status, starting_after):
        found.append(_delivery(record))
        if len(found) > limit:
            break
    return found[:limit], len(found) > limit


def _deliveries(endpoint_id: str, status: str | None, starting_after: str | None) -> Iterator[DeliveryRecord]:
    with storage_errors():
        yield from DeliveryRecord.query(
            endpoint_id,
            DeliveryRecord.event_id < starting_after if starting_after is not None else None,
            filter_condition=DeliveryRecord.status == status if status is not None else None,
            scan_index_forward=False,
        )
