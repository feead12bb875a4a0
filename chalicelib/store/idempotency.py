"""Idempotency records (`idempotency` table, hash key `key`, DynamoDB TTL on `expires_at`).

Two kinds of record share the table: `Idempotency-Key` request records
(`request#<api key id>#<method> <path>#<key>`) and processed Stripe events (`stripe-event#<evt id>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError
from pynamodb.models import Model

from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta

IN_PROGRESS = "in_progress"
COMPLETE = "complete"
# A claim whose request crashed (Lambda timeout, lost container) stops blocking retries after this;
# longer than the function timeout, so a slow request is never run twice at once.
IN_PROGRESS_LEASE = timedelta(seconds=60)


class IdempotencyRecord(Model):
    class Meta(BaseMeta):
        table_name = settings.table_name("idempotency")

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default=COMPLETE)
    request_hash = UnicodeAttribute(null=True)
    status_code = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    locked_until = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    state: str
    request_hash: str | None
    status_code: int | None
    body: str | None


def request_key(api_key_id: str, method: str, path: str, idempotency_key: str) -> str:
    return f"request#{api_key_id}#{method} {path}#{idempotency_key}"


def stripe_event_key(event_id: str) -> str:
    return f"stripe-event#{event_id}"


def claim(key: str, request_hash: str, now: datetime, expires_at: datetime) -> StoredResponse | None:
    """Claim a key for a new request. Returns None when claimed, else what the first request left.

    DynamoDB's TTL deletes lazily, so an expired record counts as absent; so does an in-progress
    claim whose lease ran out (its request died before completing or releasing it).
    """
    record = IdempotencyRecord(
        key,
        state=IN_PROGRESS,
        request_hash=request_hash,
        locked_until=now + IN_PROGRESS_LEASE,
        expires_at=expires_at,
    )
    condition = (
        IdempotencyRecord.key.does_not_exist()
        | (IdempotencyRecord.expires_at < now)
        | ((IdempotencyRecord.state == IN_PROGRESS) & (IdempotencyRecord.locked_until < now))
    )
    try:
        record.save(condition=condition)
        return None
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    existing = IdempotencyRecord.get(key, consistent_read=True)
    status = int(existing.status_code) if existing.status_code is not None else None
    return StoredResponse(existing.state, existing.request_hash, status, existing.response_body)


def complete(key: str, request_hash: str, status_code: int, body: str, expires_at: datetime) -> None:
    IdempotencyRecord(
        key,
        state=COMPLETE,
        request_hash=request_hash,
        status_code=status_code,
        response_body=body,
        expires_at=expires_at,
    ).save()


def release(key: str) -> None:
    """Forget a claim whose request failed transiently, so a retry can run it."""
    try:
        IdempotencyRecord(key).delete(condition=IdempotencyRecord.state == IN_PROGRESS)
    except DeleteError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
