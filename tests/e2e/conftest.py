"""The `make dev` stack, started as a developer starts it, on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    api: str
    stripe: str
    dynamodb: str
    process: subprocess.Popen[bytes]


@contextmanager
def dev_stack() -> Iterator[Stack]:
    """`make dev` on free ports, stopped with Ctrl-C afterwards (checking that it stops cleanly)."""
    ports = {name: _free_port() for name in ("API_PORT", "DYNAMODB_PORT", "STRIPE_PORT")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "DYNAMODB_", "TABLE_"))}
    env.update({name: str(port) for name, port in ports.items()})
    # Tests write under the project while the stack runs (Hypothesis' cache, bytecode): no reloads.
    env["API_AUTORELOAD"] = "0"
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev.dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{ports['API_PORT']}"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, f"make dev exited with {process.returncode}"
        try:
            if requests.get(f"{api}/v1/plans", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "make dev did not serve GET /v1/plans within 90 s"
        time.sleep(0.3)
    yield Stack(
        api=api,
        stripe=f"http://127.0.0.1:{ports['STRIPE_PORT']}",
        dynamodb=f"http://127.0.0.1:{ports['DYNAMODB_PORT']}",
        process=process,
    )
    # Ctrl-C, as a developer stops it: everything exits and the ports are free again.
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=30) == 0
    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still in use after Ctrl-C"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with dev_stack() as running:
        yield running
