"""`make dev`: DynamoDB (moto server), the Stripe emulator and the API on loopback, seeded.

Runs in the foreground; Ctrl-C stops all three. Ports come from the environment
(API_PORT, DYNAMODB_PORT, STRIPE_PORT), defaulting to SPEC.md's 8000, 8001 and 12111.
With the Stripe emulator, a year of demo history is replayed once the API is up
(`localdev.demo_history`); `SEED=empty` starts with only the plans, causes and keys.
The "[dev] VIP Rewards is running" banner is printed when everything is ready.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _wait_for(port: int, what: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}; see its output above")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start on {HOST}:{port} within {timeout:.0f} s")


def _wait_for_http(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """chalice local accepts connections before its reloader's child serves requests."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chalice local exited with code {proc.returncode}; see its output above")
        try:
            # The OpenAPI document needs no table: the API is probed before seeding.
            with urllib.request.urlopen(f"http://{HOST}:{port}/v1/openapi.json", timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the API did not answer on {HOST}:{port} within {timeout:.0f} s")


def _ensure_free(port: int, what: str) -> None:
    with socket.socket() as s:
        if s.connect_ex((HOST, port)) == 0:
            raise SystemExit(f"port {port} ({what}) is already in use; stop that process or set another port")


def local_environment(
    api_port: int, dynamodb_port: int, stripe_port: int, demo_store_port: int = 3000
) -> dict[str, str]:
    """The environment the API and the seeding run with (also used by the e2e tests)."""
    env = dict(os.environ)
    # The browser-facing routes answer the API's own pages and the demo store (on whatever ports they run).
    pages = [f"http://{host}:{port}" for port in (api_port, demo_store_port) for host in (HOST, "localhost")]
    env.setdefault("STOREFRONT_ORIGINS", ",".join(pages))
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "STAGE": "local",
            "TABLE_PREFIX": "vip-local",
            "DYNAMODB_HOST": f"http://{HOST}:{dynamodb_port}",
            "DEFAULT_CAUSE_ID": env.get("DEFAULT_CAUSE_ID", "ocean-cleanup"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if not os.environ.get("STRIPE_API_KEY"):
        # The embedded default: the emulator. With STRIPE_API_KEY set, real Stripe is used instead.
        env.update(
            {
                "STRIPE_API_KEY": "sk_test_local",
                "STRIPE_API_BASE": f"http://{HOST}:{stripe_port}",
                "STRIPE_WEBHOOK_SECRET": "whsec_local",
            }
        )
    return env


def main() -> int:
    api_port, dynamodb_port, stripe_port, demo_store_port = (
        _port("API_PORT", 8000),
        _port("DYNAMODB_PORT", 8001),
        _port("STRIPE_PORT", 12111),
        _port("DEMO_STORE_PORT", 3000),
    )
    env = local_environment(api_port, dynamodb_port, stripe_port, demo_store_port)
    use_emulator = env.get("STRIPE_API_BASE", "").startswith(f"http://{HOST}:")
    for port, what in (
        (api_port, "API"),
        (dynamodb_port, "DynamoDB"),
        (stripe_port, "Stripe emulator"),
        (demo_store_port, "demo store"),
    ):
        if what != "Stripe emulator" or use_emulator:
            _ensure_free(port, what)
    python = sys.executable
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], what: str) -> subprocess.Popen[bytes]:
        # Each child gets its own process group so Ctrl-C can stop it and its children (chalice's reloader).
        proc = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
        procs.append(proc)
        print(f"[dev] started {what} (pid {proc.pid})", flush=True)
        return proc

    def stop_all() -> None:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    driver: Any = None
    try:
        moto = start(
            [sys.executable, "-m", "localdev.dynamodb_server", "-H", HOST, "-p", str(dynamodb_port)],
            "DynamoDB (moto)",
        )
        _wait_for(dynamodb_port, "moto server", moto)
        if use_emulator:
            webhook = f"http://{HOST}:{api_port}/v1/webhooks/stripe"
            emu = start(
                [python, "-m", "localdev.stripe_emulator", "--host", HOST, "--port", str(stripe_port),
                 "--webhook-url", webhook, "--webhook-secret", env["STRIPE_WEBHOOK_SECRET"]],
                "Stripe emulator",
            )  # fmt: skip
            _wait_for(stripe_port, "Stripe emulator", emu)
        # The API starts before seeding (it needs no table to start).
        # API_AUTORELOAD=0: no restart when a file of the project changes (tests write some while they run).
        reload = ["--no-autoreload"] if os.environ.get("API_AUTORELOAD", "1") == "0" else []
        api = start(
            [
                python,
                "-m",
                "localdev.local_api",  # `chalice local`, passing repeated headers on as API Gateway does
                "--stage",
                "local",
                "--host",
                HOST,
                "--port",
                str(api_port),
                *reload,
            ],
            "API (chalice local)",
        )
        _wait_for(api_port, "chalice local", api)
        _wait_for_http(api_port, api)
        # Seeded once the API listens: the emulator's webhooks for what seeding creates are delivered,
        # never refused for want of a listener.
        seeding = subprocess.run([python, "-m", "localdev.bootstrap"], cwd=ROOT, env=env, check=False)
        if seeding.returncode != 0:
            raise SystemExit("seeding failed; see the output above")
        if use_emulator and os.environ.get("SEED", "demo") != "empty":
            # After the API is up, so the emulator's webhooks for the demo checkouts are delivered.
            history = subprocess.run(
                [python, "-m", "localdev.demo_history"],
                cwd=ROOT,
                env={**env, "LOG_LEVEL": "WARNING"},
                check=False,
            )
            if history.returncode != 0:
                raise SystemExit("seeding the demo history failed; see the output above")
        driver = _start_event_delivery(env)
        store = start(
            [python, "-m", "localdev.demo_store", "--host", HOST, "--port", str(demo_store_port),
             "--api", f"http://{HOST}:{api_port}"],
            "demo store",
        )  # fmt: skip
        _wait_for(demo_store_port, "demo store", store)
        _print_banner(api_port, dynamodb_port, stripe_port, use_emulator, demo_store_port)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        failed = [p for p in procs if p.poll() is not None]
        print(f"[dev] a process exited (pid {failed[0].pid}); stopping everything", flush=True)
        return 1
    except KeyboardInterrupt:
        print("\n[dev] stopping", flush=True)
        return 0
    finally:
        if driver is not None:
            driver.stop()
        stop_all()


def _start_event_delivery(env: dict[str, str]) -> Any:
    """Outbound webhooks: the deployed functions' fan-out and delivery code, fed by polling the local stack's
    stream and queue in a thread of this process (`localdev.event_driver`)."""
    os.environ.update(env)  # before chalicelib reads its settings
    from localdev.event_driver import EventDriver

    return EventDriver().start()


def _print_banner(
    api_port: int, dynamodb_port: int, stripe_port: int, use_emulator: bool, demo_store_port: int
) -> None:
    with urllib.request.urlopen(f"http://{HOST}:{api_port}/v1/plans", timeout=10) as response:
        plans = response.status
    stripe = (
        f"http://{HOST}:{stripe_port}  (emulator, webhook secret whsec_local)"
        if use_emulator
        else "real Stripe"
    )
    print(
        f"""
[dev] VIP Rewards is running (GET /v1/plans → {plans}). Ctrl-C stops everything.
  API           http://{HOST}:{api_port}/v1   (OpenAPI: /v1/openapi.json)
  DynamoDB      http://{HOST}:{dynamodb_port}  (moto server, tables prefixed vip-local-)
  Stripe        {stripe}
  Dashboard     http://{HOST}:{api_port}/dashboard   (sign in with local-brand-key)
  Webhooks      delivered from this process; try `python -m ops.events listen --port 9000 --secret whsec_...`
  Demo store    http://localhost:{demo_store_port}/demo-store   (the storefront kit on a brand's own origin)
  API keys      storefront: local-storefront-key    brand: local-brand-key
  Try:          curl http://{HOST}:{api_port}/v1/plans
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
