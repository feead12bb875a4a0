"""The running invocation: its time left bounds idempotency leases; its id seeds transaction tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import invocation
from chalicelib.settings import RECONCILE_TIMEOUT_SECONDS, settings


@pytest.fixture(autouse=True)
def outside_any_request() -> Iterator[None]:
    invocation.end()
    yield
    invocation.end()


def test_the_time_left_is_what_lambda_reports() -> None:
    invocation.start("req-1", remaining_ms=3_000)

    assert 2.5 < invocation.remaining_seconds() <= 3.0


def test_the_time_left_never_exceeds_the_function_timeout() -> None:
    invocation.start("req-1", remaining_ms=900_000)  # chalice local's 15 minutes

    assert invocation.remaining_seconds() <= settings.lambda_timeout_seconds


def test_the_hourly_job_has_its_own_longer_timeout() -> None:
    invocation.start("job-1", remaining_ms=250_000, timeout=RECONCILE_TIMEOUT_SECONDS)
    assert 249 < invocation.remaining_seconds() <= 250

    invocation.start("job-2", remaining_ms=900_000, timeout=RECONCILE_TIMEOUT_SECONDS)
    assert RECONCILE_TIMEOUT_SECONDS - 1 < invocation.remaining_seconds() <= RECONCILE_TIMEOUT_SECONDS


def test_outside_a_request_the_time_left_is_the_timeout_and_there_is_no_token() -> None:
    assert invocation.remaining_seconds() == settings.lambda_timeout_seconds
    assert (invocation.request_id(), invocation.client_request_token()) == (None, None)


def test_each_transaction_of_a_request_gets_its_own_token_of_at_most_36_characters() -> None:
    invocation.start("req-1", remaining_ms=3_000)
    first, second = invocation.client_request_token(), invocation.client_request_token()
    invocation.start("req-2", remaining_ms=3_000)
    other_request = invocation.client_request_token()

    assert first is not None and second is not None and other_request is not None
    assert len({first, second, other_request}) == 3
    assert max(len(first), len(second), len(other_request)) <= 36
