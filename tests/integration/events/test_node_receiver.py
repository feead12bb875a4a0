"""A receiver written with the npm `standardwebhooks` library (`make node-tools`) verifies what we send,
and refuses a tampered body, an old timestamp and the wrong secret."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.events.conftest import emit

NODE_TOOLS = Path(__file__).resolve().parents[2] / "tools" / "node"
RECEIVER = NODE_TOOLS / "receiver.js"


@pytest.fixture(scope="module", autouse=True)
def node_library() -> None:
    if shutil.which("node") is None or not (NODE_TOOLS / "node_modules" / "standardwebhooks").is_dir():
        pytest.fail("the npm standardwebhooks library is missing: run `make node-tools`")


def node_check(secret: str, body: str, headers: dict[str, str]) -> bool:
    payload = json.dumps({"secret": secret, "body": body, "headers": headers})
    done = subprocess.run(
        ["node", str(RECEIVER), "check"], input=payload, capture_output=True, text=True, timeout=30
    )
    return done.returncode == 0


@pytest.fixture
def node_receiver(brand: Any) -> Iterator[tuple[dict[str, Any], subprocess.Popen[str]]]:
    endpoint = brand.register("https://hooks.example.com/pending")
    proc = subprocess.Popen(
        ["node", str(RECEIVER), "serve", endpoint["secret"]], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().split()[1]
    patched = brand.call(
        "PATCH", f"/v1/webhook_endpoints/{endpoint['id']}", {"url": f"http://127.0.0.1:{port}/"}
    )
    assert patched.status_code == 200
    yield endpoint, proc
    proc.terminate()
    proc.wait(timeout=10)


def test_the_npm_reference_receiver_verifies_our_deliveries(node_receiver: Any, driver: Any) -> None:
    _, proc = node_receiver
    event = emit()
    line = proc.stdout.readline().strip()
    assert line == f"ok {event.id}"


def test_the_npm_receiver_refuses_tampering_old_timestamps_and_the_wrong_secret() -> None:
    from chalicelib.outbound.sender import signed_headers
    from chalicelib.services.webhook_endpoints import new_secret

    secret, body = new_secret(), json.dumps({"id": "evt_1", "type": "member.joined"})
    now = datetime.now(UTC)
    headers = signed_headers([secret], "evt_1", now, body)
    assert node_check(secret, body, headers)
    assert not node_check(secret, body.replace("joined", "ended"), headers)
    assert not node_check(new_secret(), body, headers)
    old = signed_headers([secret], "evt_1", now - timedelta(minutes=10), body)
    assert not node_check(secret, body, old)


def test_the_npm_receiver_accepts_either_secret_during_a_rotation() -> None:
    from chalicelib.outbound.sender import signed_headers
    from chalicelib.services.webhook_endpoints import new_secret

    old, new, body = new_secret(), new_secret(), '{"id":"evt_2"}'
    headers = signed_headers([new, old], "evt_2", datetime.now(UTC), body)
    assert node_check(old, body, headers) and node_check(new, body, headers)
