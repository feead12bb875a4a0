"""`Idempotency-Key`: run a request at most once per (API key, key), and replay its first response.

The state machine of a key (storage is `store/idempotency.py`, HTTP is `api/routing.py`):

- absent, expired, or in progress past its lease → claim it (in progress), run the request, then
  store its response (complete). A transient failure (5xx) releases the claim so a retry runs again.
- in progress within its lease → `IdempotencyInProgressError` (409): the first request is running.
- complete, same fingerprint → replay the stored response.
- any state, another fingerprint (method, concrete path or body differ) → `IdempotencyKeyReusedError`
  (409), and nothing is done.

The in-progress lease ends when the claiming invocation is cut off (its remaining time), so a
request that died stops blocking retries as soon as it can no longer be running.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

import msgspec

from chalicelib import clock, invocation
from chalicelib.domain.patterns import whole
from chalicelib.errors import ConflictError, ValidationError
from chalicelib.settings import settings
from chalicelib.store import idempotency as store

# Visible ASCII, as the OpenAPI document declares the header.
KEY_PATTERN = whole(r"[\x21-\x7e]{1,255}")
_KEY = re.compile(KEY_PATTERN)
# A claim outlives its invocation by this much, covering clock skew between containers.
LEASE_MARGIN = timedelta(seconds=1)


class InvalidIdempotencyKeyError(ValidationError):
    default_code = "invalid_idempotency_key"


class IdempotencyKeyReusedError(ConflictError):
    """The key was first used with another method, path or body."""

    default_code = "idempotency_key_reused"


class IdempotencyInProgressError(ConflictError):
    """The first request with this key is still running."""

    default_code = "idempotency_in_progress"


class Outcome(msgspec.Struct, frozen=True):
    """A response as the idempotency layer keeps it."""

    status: int
    body: str
    content_type: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, concrete path and body (JSON compared by value)."""
    try:
        canonical = json.dumps(json.loads(body or b"{}"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.hex()
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str) -> None:
    if not _KEY.match(key):
        raise InvalidIdempotencyKeyError(
            "Idempotency-Key must be 1–255 visible ASCII characters.", param="Idempotency-Key"
        )


def run_once(
    scope: str, key: str, request_fingerprint: str, run: Callable[[], Outcome]
) -> tuple[Outcome, bool]:
    """Run `run` once for (`scope`, `key`); returns (outcome, replayed).

    `scope` is the caller's API key id: keys of different callers never meet.
    """
    check_key(key)
    record_key = store.request_key(scope, key)
    now = clock.now()
    expires_at = now + timedelta(hours=settings.idempotency_ttl_hours)
    locked_until = now + timedelta(seconds=invocation.remaining_seconds()) + LEASE_MARGIN
    try:
        store.put_in_progress(record_key, request_fingerprint, now, locked_until, expires_at)
    except store.KeyAlreadyUsedError as used:
        return _answer_for(used.existing, request_fingerprint), True
    try:
        outcome = run()
    except BaseException:
        store.delete_in_progress(record_key)
        raise
    if outcome.status >= 500:
        # Transient failures are not remembered: the client's retry runs the request again.
        store.delete_in_progress(record_key)
    else:
        store.save_response(
            record_key, request_fingerprint, outcome.status, outcome.body, outcome.content_type, expires_at
        )
    return outcome, False


def _answer_for(existing: store.StoredRequest | None, request_fingerprint: str) -> Outcome:
    if existing is not None and existing.request_hash != request_fingerprint:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was already used with a different method, path or body.",
            param="Idempotency-Key",
        )
    if existing is None or existing.state != store.COMPLETE or existing.status_code is None:
        raise IdempotencyInProgressError(
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            param="Idempotency-Key",
        )
    return Outcome(existing.status_code, existing.body or "", existing.content_type or "application/json")
