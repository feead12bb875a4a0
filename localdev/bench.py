"""`make bench`: what the hot paths cost, measured (a benchmark, not a timed test).

One run, one process, sections printed as they finish (each with its own time; the total at the end):

- hot paths: per operation, the DynamoDB calls of one warm request (counted with botocore's event hooks,
  checked against the contract's bounds) and the median and p99 handler time in-process
  (chalice.test.Client against moto server and the Stripe emulator on loopback);
- reports: each report's DynamoDB calls with 100 and with 10,000 orders stored (`localdev/bench_volume.py`);
- Black Friday: where a peak mix puts its writes (hottest item, partition key and index key;
  `localdev/black_friday.py`);
- demo history: order and eligibility latency with a year of demo history loaded against an empty stack
  (`localdev/bench_history.py`);
- the deployment package (`localdev/bench_package.py`, in a fresh process);
- outbound events: an order's calls unchanged, fact → first delivery attempt, delivery throughput
  (`localdev/bench_events.py`, in a fresh process on the local stage).

`make bench` fails when a figure breaks its bound: an order answered other than 201, an operation over
its DynamoDB calls, a report whose calls grow with orders, a Black Friday share over 0.10 or 25 %.
BENCH_CALLS (default 1,000) sets the calls per hot path, BENCH_REPORT_CALLS (50) per report.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CALLS = int(os.environ.get("BENCH_CALLS", "1000"))
# A report makes 2 × TOTALS_SHARDS Queries, each a round trip to moto: fewer calls keep the run short.
REPORT_CALLS = int(os.environ.get("BENCH_REPORT_CALLS", "50"))
# A report's median handler time at most this many times one member GetItem measured in the same run.
REPORT_RATIO_BOUNDS = {
    "GET /v1/reports/program": 20,
    "GET /v1/reports/donations": 15,
    "GET /v1/reports/cohorts": 15,
}
LAUNCH = "2030-01-01T00:00:00Z"
READS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"})


def bench_environment() -> dict[str, str]:
    """The service's settings for a bench run (the package section overrides a few)."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "STAGE": "bench",
        "TABLE_PREFIX": "vip-bench",
        "STRIPE_API_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "DEFAULT_CAUSE_ID": "ocean-cleanup",
        "LOG_LEVEL": "WARNING",
    }


def _timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


@dataclass
class Stack:
    """The local stack every section uses: moto server, the Stripe emulator, the app in-process."""

    moto: Any
    emulator: Any
    client: Any
    failures: list[str] = field(default_factory=list)

    @property
    def dynamodb_url(self) -> str:
        return str(self.moto.url)

    def fresh(self) -> None:
        """Empty tables seeded with the demo plans, causes and keys; the emulator and caches emptied."""
        import requests

        from chalicelib.services import api_keys, catalog
        from localdev import seed
        from localdev.tables import create_tables

        requests.post(f"{self.dynamodb_url}/moto-api/reset", timeout=10)
        self.emulator.reset()
        create_tables()
        seed.seed()
        catalog.invalidate()
        api_keys.invalidate_cache()

    def check(self, holds: bool, failure: str) -> None:
        if not holds:
            self.failures.append(failure)
            print(f"  FAILED: {failure}", flush=True)


def _described(calls: dict[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"


def hot_paths(stack: Stack) -> None:
    """DynamoDB calls of one warm request and handler time over many, per operation."""
    from chalicelib.store.members import get_member
    from localdev import seed
    from localdev.bench_volume import REPORTS
    from localdev.dynamodb_calls import counting_dynamodb_calls

    client = stack.client
    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
    brand = {"Authorization": f"Bearer {seed.BRAND_KEY}"}
    member_ref = _make_member(client, headers, stack.emulator)
    cart = json.dumps({
        "customer_ref": member_ref, "currency": "usd",
        "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2},
                  {"sku": "drop", "unit_amount": 4000, "quantity": 1, "launch_at": LAUNCH},
                  {"sku": "gift", "unit_amount": 1000, "quantity": 1, "discountable": False}],
        "shipping": {"method": "standard", "amount": 595},
    })  # fmt: skip

    def eligibility() -> None:
        response = client.http.post("/v1/eligibility", body=cart, headers=headers)
        assert response.status_code == 200, response.body

    def member_read() -> None:
        assert get_member(member_ref) is not None

    placed: list[str] = []
    replays: list[str] = []

    def order() -> None:
        order_id = f"bench-{len(placed)}"
        placed.append(order_id)
        body = json.dumps({"order_id": order_id, "customer_ref": member_ref, "currency": "usd",
                           "amount": 4999, "savings": {"member_discount": 500, "shipping": 595}})  # fmt: skip
        response = client.http.post("/v1/orders", body=body, headers=headers)
        assert response.status_code in (200, 201), response.body
        if response.status_code != 201:  # a first POST answered as a replay (of its own retried commit)
            replays.append(order_id)

    month = datetime.now(UTC).strftime("%Y-%m")

    def report(path: str) -> Callable[[], None]:
        def ask() -> None:
            response = client.http.get(f"{path}?from={month}&to={month}", headers=brand)
            assert response.status_code == 200, response.body

        return ask

    # (operation, call, calls to time, at most (reads, transactions), 0 other writes)
    operations: list[tuple[str, Callable[[], None], int, tuple[int, int] | None]] = [
        ("POST /v1/eligibility (member)", eligibility, CALLS, (1, 0)),
        ("  of which: the member GetItem alone", member_read, CALLS, None),
        ("POST /v1/orders (member, pledges)", order, CALLS, (1, 1)),
        *[(f"{name} (this month)", report(path), REPORT_CALLS, None) for name, path in REPORTS],
    ]
    print(f"handler time: in-process chalice.test.Client, moto server on loopback; "
          f"{CALLS} calls each, reports {REPORT_CALLS}")  # fmt: skip
    print(f"{'operation':<46} {'DynamoDB calls (warm)':<36} {'median ms':>10} {'p99 ms':>10} "
          f"{'÷ GetItem':>10}", flush=True)  # fmt: skip
    get_item = 0.0
    for operation, call, runs, bound in operations:
        call()  # warm the caches (and a report's rollups)
        with counting_dynamodb_calls() as counted:
            call()
        median, p99 = _timed(call, runs)
        if call is member_read:
            get_item = median
        ratio = f"{median / get_item:>9.1f}×" if get_item else ""
        print(
            f"{operation:<46} {_described(counted):<36} {median:>10.2f} {p99:>10.2f} {ratio:>10}", flush=True
        )
        limit = next(
            (bound for path, bound in REPORT_RATIO_BOUNDS.items() if operation.startswith(path)), None
        )
        if limit is not None:
            stack.check(
                median <= limit * get_item, f"{operation}: {median / get_item:.1f}× a GetItem, over {limit}×"
            )
        if bound is not None:
            reads = sum(n for op, n in counted.items() if op in READS)
            transactions = counted["TransactWriteItems"]
            others = sum(counted.values()) - reads - transactions
            stack.check(
                reads <= bound[0] and transactions <= bound[1] and others == 0,
                f"{operation.strip()}: {_described(counted)}, over {bound[0]} read + {bound[1]} transaction",
            )
    stack.check(not replays, f"{len(replays)} first POST /v1/orders answered as replays: {replays[:5]}")
    print(f"first POST /v1/orders answered 201: {len(placed) - len(replays)} of {len(placed)}")


def reports_by_volume(stack: Stack) -> None:
    """Each report's DynamoDB calls at 100 and 10,000 orders (`localdev/bench_volume.py`)."""
    from localdev import bench_volume, seed

    stack.fresh()
    measured = bench_volume.report_calls_by_volume(stack.client, seed.BRAND_KEY)
    print("\n".join(bench_volume.lines(measured)))
    for name, figures in measured:
        stack.check(len({calls for _, calls in figures}) == 1, f"{name}: calls grow with orders {figures}")


def black_friday(stack: Stack) -> None:
    """The Black Friday mix on fresh tables, every DynamoDB write recorded (`localdev/black_friday.py`)."""
    from localdev import black_friday, seed

    stack.fresh()
    shop = black_friday.Shop(
        stack.client,
        stack.emulator,
        seed.BRAND_KEY,
        seed.STOREFRONT_KEY,
        bench_environment()["STRIPE_WEBHOOK_SECRET"],
    )
    peak = black_friday.run(shop)
    print("Black Friday workload (localdev/black_friday.py), every DynamoDB write recorded:")
    print("\n".join(peak.lines()))
    stack.check(peak.hottest_item[1] <= 0.10, f"hottest item over 0.10 writes/order: {peak.hottest_item}")
    stack.check(
        peak.hottest_partition[1] <= 0.10,
        f"hottest partition key over 0.10 writes/order: {peak.hottest_partition}",
    )
    for index, (key, share) in peak.index_shares.items():
        if index == "by-day":
            continue  # the outbox's listing by UTC day: held to writes per order below
        stack.check(share <= 0.25, f"index {index}: {share:.1%} of its items under {key}")
    from chalicelib.store.events import EventRecord

    events = sum(1 for _ in EventRecord.scan())
    print(f"outbound events: {events} for {peak.orders} orders = {events / peak.orders:.3f} writes/order "
          f"on the outbox's day key (orders emit none)")  # fmt: skip
    stack.check(events / peak.orders <= 0.10, f"outbox day key over 0.10 writes/order: {events}")


def demo_history(stack: Stack) -> None:
    """Order and eligibility latency, empty stack against demo history (`localdev/bench_history.py`)."""
    from localdev import seed
    from localdev.bench_history import history_side_by_side

    stack.fresh()
    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
    history_side_by_side(
        stack.client, lambda: _make_member(stack.client, headers, stack.emulator), _timed, stack.dynamodb_url
    )


def deployment_package(stack: Stack) -> None:
    """The deployment zip's own figures (`localdev/bench_package.py`), in a fresh process."""
    from localdev import bench_package

    bench_package.report_in_fresh_process()


def outbound_events(stack: Stack) -> None:
    """Outbound events' figures (`localdev/bench_events.py`), in a fresh process on the local stage."""
    from localdev import bench_events

    bench_events.report_in_fresh_process()


def storefront_kit(stack: Stack) -> None:
    """The kit's gzipped size (with everything it imports) against its 15 KB budget and the anchors' sizes."""
    from localdev import kit_size

    print(kit_size.report())
    if kit_size.gzipped_bytes() > kit_size.BUDGET_BYTES:
        stack.failures.append(f"storefront kit over its {kit_size.BUDGET_BYTES} byte budget")


# Every section of the run, in order: (title, what it measures and prints).
SECTIONS: list[tuple[str, Callable[[Stack], None]]] = [
    ("hot paths", hot_paths),
    ("reports by orders stored", reports_by_volume),
    ("Black Friday", black_friday),
    ("demo history against an empty stack", demo_history),
    ("deployment package", deployment_package),
    ("storefront kit", storefront_kit),
    ("outbound events", outbound_events),
]


def main() -> None:
    started = time.perf_counter()
    os.environ.update(bench_environment())
    from localdev.dynamodb_server import SerialMotoServer

    moto = SerialMotoServer("127.0.0.1", 0).start()
    os.environ["DYNAMODB_HOST"] = moto.url
    from localdev.stripe_emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0, webhook_url=None, webhook_secret="whsec_bench").start()
    os.environ["STRIPE_API_BASE"] = emulator.base_url

    from chalice.test import Client

    from app import app

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    try:
        with Client(app) as client:
            stack = Stack(moto, emulator, client)
            stack.fresh()
            for title, section in SECTIONS:
                began = time.perf_counter()
                print(f"\n== {title}", flush=True)
                section(stack)
                print(f"({title}: {time.perf_counter() - began:.0f} s)", flush=True)
    finally:
        emulator.stop()
        moto.stop()
    print(f"\nmake bench: {time.perf_counter() - started:.0f} s in all")
    if stack.failures:
        print(f"{len(stack.failures)} figure(s) out of bounds:", *stack.failures, sep="\n  ")
        sys.exit(1)


def _make_member(client: Any, headers: dict[str, str], emulator: Any) -> str:
    """A paying member through the real flow: checkout, pay on the emulator, sync."""
    response = client.http.post(
        "/v1/members/bench-member/checkout",
        body=json.dumps({"plan_id": "vip-monthly", "email": "bench@example.com",
                         "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.body
    emulator.complete_checkout(json.loads(response.body)["session_id"], "succeeded")
    synced = client.http.post("/v1/members/bench-member/sync", body="{}", headers=headers)
    assert json.loads(synced.body)["perks_active"] is True, synced.body
    return "bench-member"


if __name__ == "__main__":
    main()
