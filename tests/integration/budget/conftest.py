"""A dependency that hangs: a loopback TCP server that accepts connections and never answers.

The tests give the function a small Lambda timeout (`HUNG_LAMBDA_TIMEOUT`) so that a hung dependency costs
seconds, not minutes; every timeout and retry is derived from it exactly as in production.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest

from chalicelib.budget import Budget, derive

HUNG_LAMBDA_TIMEOUT = 8
# As deployed: one network retry for Stripe (the rest of the suite runs without).
STRIPE_RETRIES = 1


class HungServer:
    """Accepts every connection and holds it open, reading nothing and answering nothing."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.accepted: list[socket.socket] = []
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.accepted.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hung_server() -> Iterator[HungServer]:
    server = HungServer()
    yield server
    server.close()


@pytest.fixture
def budget() -> Budget:
    """The limits of a function with the tests' small Lambda timeout."""
    return derive(HUNG_LAMBDA_TIMEOUT, STRIPE_RETRIES)


@pytest.fixture
def hang_stripe(hung_server: HungServer) -> Iterator[Callable[[], None]]:
    """Call it to make Stripe hang from then on (set up the club first, through the working emulator).

    The hung Stripe is one of a function with the small Lambda timeout and Stripe's retry as deployed;
    the reconciliation reckons with the budget Stripe calls are made within, so it does too.
    """
    from chalicelib.payments.client import stripe_config, use_stripe

    with contextlib.ExitStack() as hung_from_now_on:

        def hang() -> None:
            hung = msgspec.structs.replace(
                stripe_config(),
                api_base=hung_server.url,
                lambda_timeout_seconds=HUNG_LAMBDA_TIMEOUT,
                max_network_retries=STRIPE_RETRIES,
            )
            hung_from_now_on.enter_context(use_stripe(hung))

        yield hang


@pytest.fixture
def hang_dynamodb(hung_server: HungServer) -> Iterator[Callable[[], None]]:
    """Call it to make DynamoDB hang from then on."""
    from chalicelib.store import base

    with contextlib.ExitStack() as hung_from_now_on:

        def hang() -> None:
            hung = msgspec.structs.replace(
                base.dynamodb_config(), host=hung_server.url, lambda_timeout_seconds=HUNG_LAMBDA_TIMEOUT
            )
            hung_from_now_on.enter_context(base.use_dynamodb(hung))
            # Build the clients now: creating one is cold-start work, not time spent waiting on DynamoDB.
            base.dynamodb_client("standard")
            base.dynamodb_client("eligibility")

        yield hang


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started
