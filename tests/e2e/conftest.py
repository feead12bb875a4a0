"""The `make dev` stack, started as a developer starts it, on free ports, for end-to-end tests."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = "[dev] VIP Rewards is running"


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
    # What `make dev` printed until its banner, line by line.
    startup: tuple[str, ...] = ()
    # The demo storefront, on its own origin as a brand's store is.
    demo_store: str = ""


@contextmanager
def dev_stack(extra_env: dict[str, str] | None = None, ready_within: float = 90) -> Iterator[Stack]:
    """`python -m localdev.dev` on free ports (without demo history unless `extra_env` asks for it);
    ready when it prints its banner; stopped with Ctrl-C, checking that it stops cleanly."""
    ports = {name: _free_port() for name in ("API_PORT", "DYNAMODB_PORT", "STRIPE_PORT", "DEMO_STORE_PORT")}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "DYNAMODB_", "TABLE_", "STOREFRONT_", "SHOPPER_"))
    }
    env.update({name: str(port) for name, port in ports.items()})
    # Tests write under the project while the stack runs (Hypothesis' cache, bytecode): no reloads.
    env["API_AUTORELOAD"] = "0"
    env.update(extra_env or {"SEED": "empty"})
    process = subprocess.Popen(
        [sys.executable, "-m", "localdev.dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ready = threading.Event()
    tail: collections.deque[str] = collections.deque(maxlen=40)
    startup: list[str] = []

    def watch() -> None:
        assert process.stdout is not None
        for raw in process.stdout:  # read everything, so the stack never blocks on a full pipe
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            if not ready.is_set():
                startup.append(line)
            if READY in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    deadline = time.monotonic() + ready_within
    while not ready.wait(0.3):
        assert process.poll() is None, f"make dev exited with {process.returncode}:\n" + "\n".join(tail)
        assert time.monotonic() < deadline, (
            f"make dev was not ready within {ready_within:.0f} s:\n" + "\n".join(tail)
        )
    try:
        yield Stack(
            api=f"http://127.0.0.1:{ports['API_PORT']}",
            stripe=f"http://127.0.0.1:{ports['STRIPE_PORT']}",
            dynamodb=f"http://127.0.0.1:{ports['DYNAMODB_PORT']}",
            process=process,
            startup=tuple(startup),
            demo_store=f"http://localhost:{ports['DEMO_STORE_PORT']}",
        )
    finally:
        # Ctrl-C, as a developer stops it: everything exits and the ports are free again.
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
        for port in ports.values():
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still in use after Ctrl-C"


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """An empty stack (`SEED=empty`): demo plans, causes and keys only."""
    with dev_stack({"SEED": "empty"}, ready_within=90) as running:
        yield running
