"""What the current invocation is: its request id and how much time it has left.

The HTTP frame starts each request here, and the scheduled job its run; the rest of the code reads it
instead of Chalice's request or Lambda context (idempotency leases, DynamoDB client request tokens,
error bodies, the reconciliation's time guard).
Outside a request (operator commands, tests calling services directly) there is no request id
and the time left is the Lambda timeout setting.
"""

from __future__ import annotations

import contextvars
import hashlib
import itertools
import time

import msgspec

from chalicelib.settings import settings


class Invocation(msgspec.Struct):
    request_id: str | None
    # time.monotonic() at which the Lambda invocation is cut off.
    deadline: float
    # Numbers this request's transactions, so each gets its own client request token.
    transactions: itertools.count[int] = msgspec.field(default_factory=itertools.count)


_current: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar("invocation", default=None)


def start(request_id: str | None, remaining_ms: float | None, timeout: float | None = None) -> Invocation:
    """Begin a request; `remaining_ms` is Lambda's `get_remaining_time_in_millis()` when known.

    `timeout` is the function's own Lambda timeout when it is not the API's (the hourly job's).
    """
    remaining = float(timeout if timeout is not None else settings.lambda_timeout_seconds)
    if remaining_ms is not None:
        remaining = min(remaining_ms / 1000, remaining)
    invocation = Invocation(request_id, time.monotonic() + max(remaining, 0.0))
    _current.set(invocation)
    return invocation


def remaining_ms_of(context: object) -> float | None:
    """Lambda's `get_remaining_time_in_millis()` of a Lambda context, None without one."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return float(remaining()) if remaining is not None else None


def end() -> None:
    """The request is answered: code running after it is outside any request again."""
    _current.set(None)


def request_id() -> str | None:
    current = _current.get()
    return current.request_id if current else None


def remaining_seconds() -> float:
    """Seconds until the invocation is cut off (the Lambda timeout when outside a request)."""
    current = _current.get()
    if current is None:
        return float(settings.lambda_timeout_seconds)
    return max(current.deadline - time.monotonic(), 0.0)


def client_request_token() -> str | None:
    """A DynamoDB `ClientRequestToken` for the next transaction of this request (None outside one).

    botocore resends the same token when it retries the call, so DynamoDB commits it once even when
    the first answer was lost; the request's next transaction (another attempt after a lost race
    included) gets the next token.
    """
    current = _current.get()
    if current is None or current.request_id is None:
        return None
    seed = f"{current.request_id}#{next(current.transactions)}"
    return hashlib.sha256(seed.encode()).hexdigest()[:36]
