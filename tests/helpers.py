"""Small helpers shared by tests (constants match tests/conftest.py's environment)."""

from __future__ import annotations

import json
import shutil
import time
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
