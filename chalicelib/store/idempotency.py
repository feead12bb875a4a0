"""Idempotency records (`idempotency` table, hash key `key`, DynamoDB TTL on `expires_at`): storage only.

Two kinds of record share the table: `Idempotency-Key` request records
(`request#<api key id>#<Idempotency-Key>`) and processed Stripe events (`stripe-event#<evt id>`).
The state machine over request records lives in `services/idempotency.py`.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors, transaction_connection

IN_PROGRESS = "in_progress"
COMPLETE = "complete"


class IdempotencyRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("idempotency")

    key = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default=COMPLETE)
    # Fingerprint of method + concrete path + body of the request that first used the key.
    request_hash = UnicodeAttribute(null=True)
    status_code = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    locked_until = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute()


class StoredRequest(msgspec.Struct, frozen=True):
    """What an earlier use of a key left: in progress (until `locked_until`) or its response."""

    state: str
    request_hash: str | None
    status_code: int | None
    body: str | None
    content_type: str | None
    locked_until: datetime | None


class KeyAlreadyUsedError(Exception):
    """The key is held by an earlier request; `existing` is what it left (None: a concurrent writer)."""

    def __init__(self, existing: StoredRequest | None) -> None:
        super().__init__("idempotency key already used")
        self.existing = existing


def request_key(api_key_id: str, idempotency_key: str) -> str:
    return f"request#{api_key_id}#{idempotency_key}"


def stripe_event_key(event_id: str) -> str:
    return f"stripe-event#{event_id}"


def _stored(record: IdempotencyRecord) -> StoredRequest:
    status = int(record.status_code) if record.status_code is not None else None
    return StoredRequest(
        record.state,
        record.request_hash,
        status,
        record.response_body,
        record.content_type,
        record.locked_until,
    )


def put_in_progress(
    key: str, request_hash: str, now: datetime, locked_until: datetime, expires_at: datetime
) -> None:
    """Claim `key` for a new request in one round trip; raises `KeyAlreadyUsedError` with what is there.

    The put is conditional: the key is free when absent, expired (DynamoDB's TTL deletes lazily) or
    an in-progress claim whose lease ran out (its invocation died). When the condition fails, the
    existing record comes back in the same call (`ReturnValuesOnConditionCheckFailure=ALL_OLD`);
    pynamodb 6.1 offers that on transaction items only, hence a one-item transaction.
    """
    record = IdempotencyRecord(
        key, state=IN_PROGRESS, request_hash=request_hash, locked_until=locked_until, expires_at=expires_at
    )
    free = (
        IdempotencyRecord.key.does_not_exist()
        | (IdempotencyRecord.expires_at < now)
        | ((IdempotencyRecord.state == IN_PROGRESS) & (IdempotencyRecord.locked_until < now))
    )
    with storage_errors():
        try:
            with TransactWrite(connection=transaction_connection()) as transaction:
                transaction.save(record, condition=free, return_values="ALL_OLD")
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons
            reason = reasons[0] if reasons else None
            if reason is not None and reason.code == "ConditionalCheckFailed":
                existing = IdempotencyRecord.from_raw_data(reason.raw_item) if reason.raw_item else None
                raise KeyAlreadyUsedError(_stored(existing) if existing else None) from exc
            if reason is not None and reason.code == "TransactionConflict":
                # Another request is claiming the same key at this very moment.
                raise KeyAlreadyUsedError(None) from exc
            raise


def save_response(
    key: str, request_hash: str, status_code: int, body: str, content_type: str, expires_at: datetime
) -> None:
    """Record the first response, replayed to every retry until `expires_at`."""
    record = IdempotencyRecord(
        key, state=COMPLETE, request_hash=request_hash, status_code=status_code, response_body=body,
        content_type=content_type, expires_at=expires_at,
    )  # fmt: skip
    record.save()


def delete_in_progress(key: str) -> None:
    """Forget a claim whose request failed transiently, so a retry can run it."""
    with storage_errors():
        try:
            IdempotencyRecord(key).delete(condition=IdempotencyRecord.state == IN_PROGRESS)
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise


def get_request(key: str) -> StoredRequest | None:
    try:
        return _stored(IdempotencyRecord.get(key, consistent_read=True))
    except IdempotencyRecord.DoesNotExist:
        return None
