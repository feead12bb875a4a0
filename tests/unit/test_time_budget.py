"""The time budget: every wait on Stripe and DynamoDB is carved out of the one Lambda timeout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.budget import ELIGIBILITY_DYNAMODB_SECONDS, derive
from chalicelib.settings import LAMBDA_TIMEOUT_SECONDS, RECONCILE_TIMEOUT_SECONDS

ROOT = Path(__file__).resolve().parents[2]


@settings(max_examples=50, deadline=None)
@given(lambda_timeout=st.integers(min_value=8, max_value=900), stripe_retries=st.integers(0, 3))
def test_a_hung_stripe_after_a_slow_dynamodb_still_answers_before_the_lambda_timeout(
    lambda_timeout: int, stripe_retries: int
) -> None:
    budget = derive(lambda_timeout, stripe_retries)

    assert budget.dynamodb.worst_case + budget.stripe.worst_case <= budget.answer < lambda_timeout


@settings(max_examples=50, deadline=None)
@given(lambda_timeout=st.integers(min_value=8, max_value=900), stripe_retries=st.integers(0, 3))
def test_eligibility_waits_at_most_one_second_on_dynamodb_whatever_the_lambda_timeout(
    lambda_timeout: int, stripe_retries: int
) -> None:
    eligibility = derive(lambda_timeout, stripe_retries).dynamodb_eligibility

    assert eligibility.worst_case <= ELIGIBILITY_DYNAMODB_SECONDS
    assert eligibility.attempts == 1


def test_the_deployed_budget_gives_every_attempt_time_to_answer() -> None:
    budget = derive(LAMBDA_TIMEOUT_SECONDS, 1)

    assert (budget.stripe.attempts, budget.dynamodb.attempts) == (2, 2)
    assert budget.stripe.read_timeout >= 3 and budget.dynamodb.read_timeout >= 1
    assert budget.answer <= 0.8 * LAMBDA_TIMEOUT_SECONDS


def test_a_lambda_timeout_too_short_to_wait_on_anything_is_refused() -> None:
    with pytest.raises(ValueError, match="leaves no time"):
        derive(4, 1)


def test_chalice_stages_deploy_the_timeout_the_code_budgets_for() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())

    timeouts = {
        name: stage["lambda_timeout"] for name, stage in config["stages"].items() if "lambda_timeout" in stage
    }

    assert timeouts and set(timeouts.values()) == {LAMBDA_TIMEOUT_SECONDS}
    hourly = {
        name: stage["lambda_functions"]["reconcile_members"]["lambda_timeout"]
        for name, stage in config["stages"].items() if "lambda_timeout" in stage
    }  # fmt: skip
    assert set(hourly.values()) == {RECONCILE_TIMEOUT_SECONDS}
