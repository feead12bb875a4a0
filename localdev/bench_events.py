"""`make bench`'s outbound-events section, in a fresh process on the local stage (loopback receivers are
allowed only there): measured in one run against moto server, the Stripe emulator and the app in-process,
with the local delivery driver `make dev` runs (`localdev/event_driver.py`, default polling).

- an order's DynamoDB calls (orders emit no event: still 1 read + 1 transaction), and a fact's that emits
  one (`PUT /v1/members/{ref}/cause`: the event is one more item of the same transaction);
- fact → first delivery attempt: from the event's `created_at` (taken when the fact is decided, before
  its commit) to the receiver's first request carrying it, median and p99 over BENCH_EVENT_FACTS facts;
- delivery throughput: BENCH_EVENT_COUNT events written while no driver runs, then delivered to one local
  receiver by a started driver: events per second from its start to the last first delivery.

Run alone: `.venv/bin/python -m localdev.bench_events`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from localdev.webhook_receiver import Received, WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]
FACTS = int(os.environ.get("BENCH_EVENT_FACTS", "200"))
COUNT = int(os.environ.get("BENCH_EVENT_COUNT", "500"))
CAUSES = ("ocean-cleanup", "school-meals")


class Receiver:
    """A local webhook receiver answering 200: when each event id first arrived, and its body."""

    def __init__(self) -> None:
        self.first: dict[str, tuple[float, dict[str, Any]]] = {}
        self.receiver = WebhookReceiver(self._note)

    def _note(self, request: Received) -> int:
        body = request.event()
        self.first.setdefault(body["id"], (request.at, body))
        return 200

    @property
    def url(self) -> str:
        return self.receiver.url

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.first) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self) -> None:
        self.receiver.stop()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def measure(client: Any, emulator: Any, fresh: Any) -> list[str]:
    from localdev import seed
    from localdev.bench import _described, _make_member
    from localdev.dynamodb_calls import counting_dynamodb_calls
    from localdev.event_driver import EventDriver

    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
    brand = {"Authorization": f"Bearer {seed.BRAND_KEY}", "Content-Type": "application/json"}
    lines: list[str] = []

    def register(url: str) -> None:
        body = json.dumps({"url": url, "events": ["*"]})
        response = client.http.post("/v1/webhook_endpoints", body=body, headers=brand)
        assert response.status_code == 201, response.body

    def choose(customer_ref: str, n: int) -> None:
        body = json.dumps({"cause_id": CAUSES[n % 2]})
        response = client.http.put(f"/v1/members/{customer_ref}/cause", body=body, headers=headers)
        assert response.status_code == 200, response.body

    # DynamoDB calls: an order (no event), a fact that emits one.
    fresh()
    member_ref = _make_member(client, headers, emulator)

    def order(order_id: str) -> None:
        body = json.dumps({"order_id": order_id, "customer_ref": member_ref, "currency": "usd",
                           "amount": 4999, "savings": {"member_discount": 500, "shipping": 595}})  # fmt: skip
        response = client.http.post("/v1/orders", body=body, headers=headers)
        assert response.status_code == 201, response.body

    order("bench-events-warm")
    with counting_dynamodb_calls() as order_calls:
        order("bench-events-1")
    choose(member_ref, 0)
    with counting_dynamodb_calls() as fact_calls:
        choose(member_ref, 1)
    lines.append(f"{'POST /v1/orders (member; no event)':<52} {_described(order_calls)}")
    lines.append(f"{'PUT /v1/members/{ref}/cause (member.cause_changed)':<52} {_described(fact_calls)}")

    # Fact → first delivery attempt, with the driver running as under `make dev`.
    receiver = Receiver()
    register(receiver.url)
    driver = EventDriver().start()
    try:
        facts_before = len(receiver.first)
        for n in range(FACTS):
            choose(member_ref, n)
            time.sleep(0.01)  # facts spaced out: each one's own latency, not a queue's
        receiver.wait_for(facts_before + FACTS, timeout=120)
    finally:
        driver.stop()
        receiver.stop()
    latencies = [
        (at - datetime.fromisoformat(body["created_at"]).timestamp()) * 1000
        for at, body in receiver.first.values()
        if body["type"] == "member.cause_changed"
    ]
    median, p99 = _percentiles(latencies[-FACTS:])
    lines.append(
        f"fact → first delivery attempt ({len(latencies[-FACTS:])} facts, driver polling "
        f"{EventDriver().poll_seconds:.1f} s): median {median:.0f} ms, p99 {p99:.0f} ms"
    )

    # Delivery throughput: a backlog of COUNT events, then a driver started.
    from chalicelib import clock
    from chalicelib.domain.events import MEMBER_RENEWED, Moment, event_of, new_event_id
    from chalicelib.store.events import put_event

    fresh()
    receiver = Receiver()
    register(receiver.url)
    for n in range(COUNT):
        now = clock.now()
        put_event(event_of(Moment(type=MEMBER_RENEWED), event_id=new_event_id(now), created_at=now,
                           customer_ref=f"bench-{n % 50}", sequence=1 + n // 50,
                           membership={"status": "active"}))  # fmt: skip
    driver = EventDriver().start()
    started = time.perf_counter()
    try:
        receiver.wait_for(COUNT, timeout=300)
        elapsed = time.perf_counter() - started
    finally:
        driver.stop()
        receiver.stop()
    delivered = len(receiver.first)
    lines.append(
        f"delivery throughput to one local receiver: {delivered} of {COUNT} events in {elapsed:.1f} s "
        f"= {delivered / elapsed:.0f} events/s"
    )
    return lines


def main() -> None:
    from localdev.bench import bench_environment

    os.environ.update(bench_environment())
    # The local stage: receivers on loopback are allowed (SPEC "URLs").
    os.environ.update({"STAGE": "local", "TABLE_PREFIX": "vip-bench-events", "LOG_LEVEL": "ERROR"})
    from localdev.dynamodb_server import SerialMotoServer

    moto = SerialMotoServer("127.0.0.1", 0).start()
    os.environ["DYNAMODB_HOST"] = moto.url
    from localdev.stripe_emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0, webhook_url=None, webhook_secret="whsec_bench").start()
    os.environ["STRIPE_API_BASE"] = emulator.base_url

    import requests
    from chalice.test import Client

    from app import app
    from chalicelib.services import api_keys, catalog
    from localdev import seed
    from localdev.tables import create_tables

    def fresh() -> None:
        requests.post(f"{moto.url}/moto-api/reset", timeout=10)
        emulator.reset()
        create_tables()
        seed.seed()
        catalog.invalidate()
        api_keys.invalidate_cache()

    try:
        with Client(app) as client:
            print("\n".join(measure(client, emulator, fresh)), flush=True)
    finally:
        emulator.stop()
        moto.stop()


def report_in_fresh_process() -> None:
    """Print the figures from a fresh process on the local stage."""
    subprocess.run([sys.executable, "-m", "localdev.bench_events"], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
