"""The moto DynamoDB server and the Stripe emulator the integration, infra and e2e suites run against.

Started once per test session, before anything imports `chalicelib` (pynamodb reads the endpoint when the
models are imported): the root `conftest.py` calls `start()` from `pytest_configure` unless the session
runs `tests/unit` alone, which needs no server at all.
"""

from __future__ import annotations

import os
from typing import Any

_started: dict[str, Any] = {}


def start() -> None:
    """Start both servers (once) and point the environment at them."""
    if _started:
        return
    from localdev.dynamodb_server import SerialMotoServer
    from localdev.stripe_emulator import Emulator

    moto = SerialMotoServer("127.0.0.1", 0).start()
    os.environ["DYNAMODB_HOST"] = moto.url
    emulator = Emulator(host="127.0.0.1", port=0, webhook_url=None, webhook_secret="whsec_test")
    emulator.start()
    os.environ["STRIPE_API_BASE"] = emulator.base_url
    _started.update(moto=moto, emulator=emulator)


def emulator() -> Any:
    if not _started:
        raise RuntimeError(
            "the test servers were not started for this session (tests/unit runs without them)"
        )
    return _started["emulator"]
