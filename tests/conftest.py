"""Shared test setup: real moto DynamoDB (server mode) and the Stripe emulator, both over real HTTP.

The environment is set before anything imports `app` or `chalicelib`: pynamodb reads table names
and the endpoint when the models are imported, and `chalice.test.Client` only patches the
environment around each request.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests import servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "STAGE": "test",
        "TABLE_PREFIX": "vip-test",
        "STRIPE_API_KEY": "sk_test_local",
        # Two secrets, as during a rotation: Stripe signs with `whsec_test` (the emulator's) or the new one.
        "STRIPE_WEBHOOK_SECRET": "whsec_test,whsec_new",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        # moto is far slower than DynamoDB (a transaction copies whole tables): the suite runs the budget of a
        # 60 s function, so its DynamoDB reads may take 4.4 s. The time-budget tests set their own.
        "LAMBDA_TIMEOUT_SECONDS": "60",
        "DEFAULT_CAUSE_ID": "general-fund",
        "LOG_LEVEL": "WARNING",
        # Shopper tokens and the storefront's origins (the browser-facing routes).
        "SHOPPER_TOKEN_KEYS": "test-2:test-shopper-token-key-current-0000000,test-1:test-shopper-token-key-previous-000000",
        "STOREFRONT_ORIGINS": "https://shop.example.com,http://localhost:3000",
    }
)

# Nothing listens here: a unit test that reached for DynamoDB or Stripe fails at once instead of finding AWS.
os.environ.setdefault("DYNAMODB_HOST", "http://127.0.0.1:9")
os.environ.setdefault("STRIPE_API_BASE", "http://127.0.0.1:9")

UNIT = Path(__file__).resolve().parent / "unit"


def pytest_configure(config: pytest.Config) -> None:
    """Start moto and the Stripe emulator unless every path asked for lies under `tests/unit`."""
    paths = [Path(str(arg).split("::", 1)[0]).resolve() for arg in config.args]
    if not paths or not all(path == UNIT or UNIT in path.parents for path in paths):
        servers.start()


from tests.helpers import BRAND_KEY, STOREFRONT_KEY, chalice_test_project  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Any:
    """The Stripe emulator, with webhook delivery off: tests post its events themselves."""
    return servers.emulator()


@pytest.fixture(scope="session")
def dynamodb_url() -> str:
    return os.environ["DYNAMODB_HOST"]


@pytest.fixture
def fresh_state(emulator: Any, dynamodb_url: str) -> Iterator[None]:
    """Empty tables, an empty emulator, empty caches and the real clock (autouse in the suites that run
    against the servers: `tests/integration`, `tests/infra`).

    Every test starts with empty tables, an empty emulator, empty caches and the real clock."""
    import requests

    from chalicelib import clock
    from chalicelib.services import api_keys, catalog
    from localdev.tables import create_tables

    requests.post(f"{dynamodb_url}/moto-api/reset", timeout=10)
    create_tables()
    emulator.reset()
    emulator.set_webhook_url(None)
    catalog.invalidate()
    api_keys.invalidate_cache()
    clock.set_clock(None)
    yield
    clock.set_clock(None)


@pytest.fixture
def client() -> Iterator[object]:
    from chalice.test import Client

    from app import app

    # chalice.test swaps `os.environ` for a patched copy around each request and puts back the one it
    # found; requests sent from several threads at once can leave a patched copy in place.
    environ = os.environ
    # The requests' Lambda context and the settings agree on the function's timeout.
    project = chalice_test_project(int(os.environ["LAMBDA_TIMEOUT_SECONDS"]))
    with Client(app, stage_name="test", project_dir=project) as test_client:
        yield test_client
    os.environ = environ


@pytest.fixture
def keys() -> dict[str, str]:
    """Fixed storefront and brand keys, minted through the real service."""
    from chalicelib.services import api_keys

    api_keys.mint_key("storefront", "test storefront", secret=STOREFRONT_KEY)
    api_keys.mint_key("brand", "test brand", secret=BRAND_KEY)
    return {"storefront": STOREFRONT_KEY, "brand": BRAND_KEY}


@pytest.fixture
def ops_on_test_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator commands run in-process with `--stage local` act on the tests' DynamoDB (as on `make dev`'s).

    The command points the environment at its stage; monkeypatch puts it back afterwards.
    """
    for name in ("STAGE", "TABLE_PREFIX", "DYNAMODB_HOST", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, os.environ[name])


@pytest.fixture
def stripe_down() -> Iterator[None]:
    """Stripe is unreachable: the client points at a closed loopback port (no retries configured)."""
    from chalicelib.payments.client import stripe_config, use_stripe

    closed = msgspec.structs.replace(stripe_config(), api_base=f"http://127.0.0.1:{_free_port()}")
    with use_stripe(closed):
        yield
