"""Small helpers shared by tests (constants match tests/conftest.py's environment)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from functools import cache
from typing import Any

from localdev.stripe_emulator.signing import sign_payload

# Debian's Chromium, and the flags it needs on a closed network (GOTCHAS); callers add their headless flag.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_OFFLINE_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WEBHOOK_SECRET = "whsec_test"
STOREFRONT_KEY = "test-storefront-key"
BRAND_KEY = "test-brand-key"


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **extra}


def body(payload: Any) -> str:
    return json.dumps(payload)


def signed_webhook(
    event: dict[str, Any], secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[str, dict[str, str]]:
    """An event as Stripe would post it: the JSON body and its `Stripe-Signature` header."""
    payload = json.dumps(event)
    header = sign_payload(payload.encode(), secret, int(time.time()) if at is None else at)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}


def lambda_context(function_name: str, timeout_seconds: float) -> Any:
    """A Lambda context as Lambda passes it (`get_remaining_time_in_millis()` counting down from the timeout).

    chalice.test's `lambda_.invoke` always gives 3 s, whatever the stage says.
    """
    from chalice.local import LambdaContext

    return LambdaContext(function_name, memory_size=512, max_runtime_ms=int(timeout_seconds * 1000))


@cache
def chalice_test_project(lambda_timeout: int) -> str:
    """The project's Chalice config with a `test` stage whose `lambda_timeout` is the one given.

    chalice.test gives each request a Lambda context timed by its stage's `lambda_timeout` (`dev` says 20 s):
    `Client(app, stage_name="test", project_dir=...)` with this makes it the timeout the test means.
    """
    with open(os.path.join(os.path.dirname(__file__), "..", ".chalice", "config.json")) as f:
        config = json.load(f)
    config["stages"] = {"test": {"lambda_timeout": lambda_timeout}}
    project = tempfile.mkdtemp(prefix="vip-chalice-test-")
    os.mkdir(os.path.join(project, ".chalice"))
    with open(os.path.join(project, ".chalice", "config.json"), "w") as f:
        json.dump(config, f)
    return project
