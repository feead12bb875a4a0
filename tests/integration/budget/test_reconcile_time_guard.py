"""Reconciliation never outlives its invocation: against a hung Stripe it stops while the time left still
covers one shopper's worst case, answers in time and says how many shoppers it left; those stay due."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.budget import Budget
from chalicelib.store import members as store
from tests.helpers import BRAND_KEY, auth, chalice_test_project, lambda_context
from tests.integration.budget.conftest import HUNG_LAMBDA_TIMEOUT, timed
from tests.integration.conftest import Club

SHOPPERS = ("ada", "bo", "cy", "di")


def _all_due(club: Club) -> None:
    """Every shopper paid a checkout whose webhooks were lost; an hour later they are all due."""
    for customer_ref in SHOPPERS:
        club.pay(club.start_checkout(customer_ref))
    moment = datetime.now(UTC) + timedelta(hours=1.1)
    clock.set_clock(lambda: moment)


def _still_due() -> set[str]:
    return set(store.due_for_reconcile(clock.epoch_seconds(), 100))


@pytest.fixture
def short_client() -> Iterator[Any]:
    """A test client whose requests' Lambda context allows HUNG_LAMBDA_TIMEOUT seconds."""
    from chalice.test import Client

    from app import app

    environ = os.environ
    with Client(app, stage_name="test", project_dir=chalice_test_project(HUNG_LAMBDA_TIMEOUT)) as client:
        yield client
    os.environ = environ


def test_reconcile_against_a_hung_stripe_stops_early_in_time_and_says_how_many_it_left(
    club: Club, short_client: Any, hang_stripe: Callable[[], None], budget: Budget
) -> None:
    _all_due(club)
    hang_stripe()

    response, elapsed = timed(
        lambda: short_client.http.post("/v1/admin/reconcile", body="{}", headers=auth(BRAND_KEY))
    )

    assert response.status_code == 200
    assert elapsed < budget.answer
    result = json.loads(response.body)
    assert result["stopped_early"] is True
    assert result["checked"] == 0 and result["failed"] >= 1 and result["left"] >= 1
    # Every shopper of the run was either tried (and failed) or left; all of them stay due.
    assert result["failed"] + result["left"] == len(SHOPPERS)
    assert _still_due() == set(SHOPPERS)


def test_reconcile_with_a_healthy_stripe_does_every_shopper(club: Club) -> None:
    _all_due(club)

    response = club.post("/v1/admin/reconcile", {}, key=BRAND_KEY)

    assert json.loads(response.body) == {
        "checked": len(SHOPPERS),
        "fixed": 2 * len(SHOPPERS),  # each: the membership and its first fee's pledge
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    assert _still_due() == set()


def test_the_hourly_run_stops_early_against_a_hung_stripe_by_the_invocations_own_clock(
    club: Club,
    hang_stripe: Callable[[], None],
    budget: Budget,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from chalice.test import Client

    from app import app
    from chalicelib.api.admin import reconcile_members

    _all_due(club)
    with Client(app) as test_client:
        event = test_client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="us-east-1"
        )
    hang_stripe()

    # The settings' default timeout is 60 s: only the Lambda context tells the run it has 8.
    logging.getLogger("vip").addHandler(caplog.handler)
    try:
        _, elapsed = timed(
            lambda: reconcile_members(event, lambda_context("reconcile_members", HUNG_LAMBDA_TIMEOUT))
        )
    finally:
        logging.getLogger("vip").removeHandler(caplog.handler)

    assert elapsed < budget.answer
    stopped = [r for r in caplog.records if r.getMessage() == "reconciliation stopped early: out of time"]
    assert len(stopped) == 1 and stopped[0].left >= 1
    assert _still_due() == set(SHOPPERS)


def test_each_hour_the_due_walk_starts_at_another_bucket() -> None:
    from chalicelib.services import reconcile

    hour = 3600 * 1_000_000
    firsts = [
        reconcile.next_first_bucket(hour + 3600 * n + 59) for n in range(len(store.reconcile_buckets()))
    ]

    assert sorted(firsts) == list(store.reconcile_buckets())
