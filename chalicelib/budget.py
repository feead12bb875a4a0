"""The time budget: how long the service may wait on Stripe and DynamoDB, derived from the Lambda timeout.

A hung dependency must end in the contract's 502/503, never in API Gateway's own timeout error. So every
call has a worst case (attempts × (connect + read timeout) + the client's back-off between attempts), and
those worst cases are carved out of one number, the Lambda timeout `T` (`settings.lambda_timeout_seconds`,
which infra deploys as the function's timeout):

- `answer` = 0.8 T: every answer is sent by then; the rest is headroom for a cold start and the response.
- Stripe gets 0.55 of `answer` per call, DynamoDB 0.25: a request that waited out a whole DynamoDB worst case
  (a slow read that succeeded on its retry) and then meets a hung Stripe still answers inside `answer`.
- The eligibility hot path waits at most 1 s on DynamoDB (the contract), whatever `T` is: one attempt, no
  back-off, so a storefront falls back to guest prices quickly.

Arithmetic only: `store/` and `payments/` build their clients from `derive(settings...)`.
"""

from __future__ import annotations

from functools import cache

import msgspec

# The contract: the checkout hot path gives up on DynamoDB after this long.
ELIGIBILITY_DYNAMODB_SECONDS = 1.0
# botocore's standard retry mode sleeps up to random() × 2^(n-1) s before retry n (≤ 1 s before the 1st).
DYNAMODB_ATTEMPTS = 2
# stripe-python sleeps at most 0.5 × 2^(n-1) s (never less than 0.5 s) before network retry n.
STRIPE_FIRST_RETRY_DELAY = 0.5


class CallLimits(msgspec.Struct, frozen=True):
    """How one client waits on one dependency."""

    connect_timeout: float
    read_timeout: float
    attempts: int
    # The most the client sleeps between attempts, all retries together.
    backoff: float

    @property
    def worst_case(self) -> float:
        """The longest a call can take when the dependency accepts connections and never answers."""
        return self.attempts * (self.connect_timeout + self.read_timeout) + self.backoff


class Budget(msgspec.Struct, frozen=True):
    lambda_timeout: float
    answer: float
    stripe: CallLimits
    dynamodb: CallLimits
    dynamodb_eligibility: CallLimits


def _split(seconds_per_attempt: float) -> tuple[float, float]:
    """A fifth of an attempt to connect, the rest to wait for the answer (rounded to milliseconds)."""
    connect = round(seconds_per_attempt / 5, 3)
    return connect, round(seconds_per_attempt - connect, 3)


def stripe_backoff(retries: int) -> float:
    return float(sum(STRIPE_FIRST_RETRY_DELAY * 2 ** (n - 1) for n in range(1, retries + 1)))


def dynamodb_backoff(attempts: int) -> float:
    return float(sum(2 ** (n - 1) for n in range(1, attempts)))


@cache
def derive(lambda_timeout: float, stripe_retries: int) -> Budget:
    """Every client's limits for a function that Lambda stops after `lambda_timeout` seconds."""
    answer = 0.8 * lambda_timeout
    stripe_attempts = 1 + stripe_retries
    stripe_pause = stripe_backoff(stripe_retries)
    stripe_connect, stripe_read = _split((0.55 * answer - stripe_pause) / stripe_attempts)
    dynamo_pause = dynamodb_backoff(DYNAMODB_ATTEMPTS)
    dynamo_connect, dynamo_read = _split((0.25 * answer - dynamo_pause) / DYNAMODB_ATTEMPTS)
    if min(stripe_read, dynamo_read) <= 0:
        raise ValueError(f"a {lambda_timeout} s Lambda timeout leaves no time to wait on Stripe and DynamoDB")
    eligibility_connect = round(0.3 * ELIGIBILITY_DYNAMODB_SECONDS, 3)
    return Budget(
        lambda_timeout=lambda_timeout,
        answer=answer,
        stripe=CallLimits(stripe_connect, stripe_read, stripe_attempts, stripe_pause),
        dynamodb=CallLimits(dynamo_connect, dynamo_read, DYNAMODB_ATTEMPTS, dynamo_pause),
        dynamodb_eligibility=CallLimits(
            eligibility_connect, round(0.6 * ELIGIBILITY_DYNAMODB_SECONDS, 3), 1, 0.0
        ),
    )
