"""API keys, stored hashed (`api-keys` table, hash key `key_id`)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, translated


class ApiKeyRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("api-keys")

    key_id = UnicodeAttribute(hash_key=True)
    # SHA-256 of the secret; the secret itself is never stored.
    key_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


def get_key(key_id: str) -> ApiKeyRecord | None:
    try:
        return ApiKeyRecord.get(key_id)
    except ApiKeyRecord.DoesNotExist:
        return None


def create_key(key_id: str, key_hash: str, role: str, name: str, now: datetime) -> ApiKeyRecord:
    record = ApiKeyRecord(key_id, key_hash=key_hash, role=role, name=name, created_at=now)
    # A put that never replaces: minting the same key twice keeps the first record.
    try:
        record.save(condition=ApiKeyRecord.key_id.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise translated(exc) from exc
    return record


def revoke_key(key_id: str, now: datetime) -> bool:
    """Mark a key revoked; False when there is no such key."""
    record = get_key(key_id)
    if record is None:
        return False
    if record.revoked_at is None:
        record.update(actions=[ApiKeyRecord.revoked_at.set(now)])
    return True
