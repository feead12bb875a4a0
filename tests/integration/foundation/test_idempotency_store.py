"""Idempotency records against DynamoDB (moto): claims, what a failed claim returns, crashed requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.store import idempotency

NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
LEASE = NOW + timedelta(seconds=21)
DAY = timedelta(days=1)


def _existing(at: datetime, request_hash: str = "hash-a") -> idempotency.StoredRequest | None:
    with pytest.raises(idempotency.KeyAlreadyUsedError) as used:
        idempotency.put_in_progress("k", request_hash, at, at + timedelta(seconds=21), at + DAY)
    return used.value.existing


def test_a_failed_claim_returns_the_record_that_holds_the_key() -> None:
    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)

    existing = _existing(NOW)

    assert existing == idempotency.StoredRequest(idempotency.IN_PROGRESS, "hash-a", None, None, None, LEASE)


def test_a_completed_request_comes_back_with_its_response() -> None:
    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)
    idempotency.save_response("k", "hash-a", 201, '{"ok": true}', "application/json", NOW + DAY)

    existing = _existing(NOW + timedelta(minutes=5))

    assert existing is not None
    assert (existing.state, existing.status_code, existing.body) == (
        idempotency.COMPLETE,
        201,
        '{"ok": true}',
    )


def test_a_released_claim_can_be_claimed_again() -> None:
    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)
    idempotency.delete_in_progress("k")

    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)

    assert idempotency.get_request("k") is not None


def test_a_crashed_request_stops_blocking_once_its_lease_ends() -> None:
    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)

    during = _existing(LEASE - timedelta(seconds=1))
    idempotency.put_in_progress("k", "hash-a", LEASE + timedelta(seconds=1), LEASE + DAY, NOW + DAY)

    assert during is not None and during.state == idempotency.IN_PROGRESS


def test_a_completed_record_is_kept_until_it_expires() -> None:
    idempotency.put_in_progress("k", "hash-a", NOW, LEASE, NOW + DAY)
    idempotency.save_response("k", "hash-a", 200, "{}", "application/json", NOW + DAY)

    before_expiry = _existing(NOW + timedelta(hours=23), "hash-b")
    idempotency.put_in_progress("k", "hash-b", NOW + DAY + timedelta(seconds=1), LEASE + DAY, NOW + 2 * DAY)

    assert before_expiry is not None and before_expiry.state == idempotency.COMPLETE
