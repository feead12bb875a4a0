"""Idempotency records against DynamoDB (moto): claims, replays, crashed requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.store import idempotency

NOW = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_first_claim_wins_and_later_ones_see_it() -> None:
    assert idempotency.claim("k", "hash-a", NOW, NOW + DAY) is None

    again = idempotency.claim("k", "hash-a", NOW, NOW + DAY)

    assert again is not None
    assert (again.state, again.request_hash) == (idempotency.IN_PROGRESS, "hash-a")


def test_a_completed_request_is_replayed() -> None:
    idempotency.claim("k", "hash-a", NOW, NOW + DAY)
    idempotency.complete("k", "hash-a", 201, '{"ok": true}', NOW + DAY)

    replay = idempotency.claim("k", "hash-a", NOW + timedelta(minutes=5), NOW + DAY)

    assert replay == idempotency.StoredResponse(idempotency.COMPLETE, "hash-a", 201, '{"ok": true}')


def test_a_released_claim_can_be_claimed_again() -> None:
    idempotency.claim("k", "hash-a", NOW, NOW + DAY)
    idempotency.release("k")

    assert idempotency.claim("k", "hash-a", NOW, NOW + DAY) is None


def test_a_crashed_request_stops_blocking_once_its_lease_ends() -> None:
    idempotency.claim("k", "hash-a", NOW, NOW + DAY)

    during = idempotency.claim("k", "hash-a", NOW + timedelta(seconds=30), NOW + DAY)
    after = idempotency.claim(
        "k", "hash-a", NOW + idempotency.IN_PROGRESS_LEASE + timedelta(seconds=1), NOW + DAY
    )

    assert during is not None and during.state == idempotency.IN_PROGRESS
    assert after is None


def test_a_completed_record_is_kept_until_it_expires() -> None:
    idempotency.claim("k", "hash-a", NOW, NOW + DAY)
    idempotency.complete("k", "hash-a", 200, "{}", NOW + DAY)

    before_expiry = idempotency.claim("k", "hash-b", NOW + timedelta(hours=23), NOW + 2 * DAY)
    after_expiry = idempotency.claim("k", "hash-b", NOW + DAY + timedelta(seconds=1), NOW + 2 * DAY)

    assert before_expiry is not None and before_expiry.state == idempotency.COMPLETE
    assert after_expiry is None
