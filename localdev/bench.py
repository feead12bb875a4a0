"""`make bench`: what the hot paths cost, measured (a benchmark, not a timed test).

Prints, per operation, the DynamoDB calls of one warm request (counted with botocore's event
hooks), the median and p99 handler time in-process (chalice.test.Client against moto server and
the Stripe emulator on loopback) over many calls, the DynamoDB calls of a report at 100 and at
10,000 orders, where a Black Friday mix puts its writes (hottest item, partition key and index
key; `localdev/black_friday.py`), and the cold import time of `app` next to `import boto3, pynamodb`
measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("BENCH_CALLS", "1000"))
LAUNCH = "2030-01-01T00:00:00Z"
CAUSES = ("ocean-cleanup", "school-meals", "reforestation")


def _environment() -> dict[str, str]:
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


def cold_import_ms(
    statement: str, runs: int = 7, cwd: Path = ROOT, extra_env: dict[str, str] | None = None
) -> float:
    """Median wall time of `statement` in fresh interpreters (bytecode caches warm: .pyc shipped)."""
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    env = {**os.environ, **_environment(), "PYTHONPATH": str(cwd), **(extra_env or {})}
    samples = []
    for run in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
        )
        if run:  # the first run only makes sure the bytecode caches are written
            samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def _timed(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def main() -> None:
    os.environ.update(_environment())
    from localdev.dynamodb_server import SerialMotoServer

    moto = SerialMotoServer("127.0.0.1", 0).start()
    os.environ["DYNAMODB_HOST"] = moto.url
    from localdev.stripe_emulator import Emulator

    emulator = Emulator(host="127.0.0.1", port=0, webhook_url=None, webhook_secret="whsec_bench").start()
    os.environ["STRIPE_API_BASE"] = emulator.base_url

    from chalice.test import Client

    from app import app
    from chalicelib.store.members import get_member
    from localdev import seed
    from localdev.dynamodb_calls import counting_dynamodb_calls
    from localdev.tables import create_tables

    create_tables()
    seed.seed()
    rows: list[tuple[str, dict[str, int], float, float]] = []
    with Client(app) as client:
        headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
        member_ref = _make_member(client, headers, emulator)
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

        order_ids = iter(range(10**9))

        def order() -> None:
            body = json.dumps({"order_id": f"bench-{next(order_ids)}", "customer_ref": member_ref,
                               "currency": "usd", "amount": 4999})  # fmt: skip
            response = client.http.post("/v1/orders", body=body, headers=headers)
            assert response.status_code == 201, response.body

        month = datetime.now(UTC).strftime("%Y-%m")

        def report() -> None:
            response = client.http.get(f"/v1/reports/donations?from={month}&to={month}", headers=brand)
            assert response.status_code == 200, response.body

        brand = {"Authorization": f"Bearer {seed.BRAND_KEY}"}

        def year_report() -> None:
            year = datetime.now(UTC).year
            response = client.http.get(f"/v1/reports/donations?from={year}-01&to={year}-12", headers=brand)
            assert response.status_code == 200, response.body

        operations = [
            ("POST /v1/eligibility (member)", eligibility),
            ("  of which: the member GetItem alone", member_read),
            ("POST /v1/orders (member, pledges)", order),
            ("GET /v1/reports/donations", report),
        ]
        for operation, call in operations:
            call()  # warm the caches
            with counting_dynamodb_calls() as counted:
                call()
            median, p99 = _timed(call, CALLS)
            rows.append((operation, dict(counted), median, p99))
        report_calls = _report_calls_by_volume(year_report)
        peak = _black_friday(client, emulator, moto.url)

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")  # fmt: skip
    print(f"handler time: in-process chalice.test.Client, moto server on loopback, {CALLS} calls each\n")
    print(f"{'operation':<42} {'DynamoDB calls (warm)':<28} {'median ms':>10} {'p99 ms':>10}")
    for operation, calls, median, p99 in rows:
        described = ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "none"
        print(f"{operation:<42} {described:<28} {median:>10.2f} {p99:>10.2f}")
    base = cold_import_ms("import boto3, pynamodb")
    full = cold_import_ms("import app")
    print(f"\nyear report (12 months × 3 causes), DynamoDB calls: {report_calls[0]} with {report_calls[1]} "
          f"orders in the ledger, {report_calls[2]} with {report_calls[3]}")  # fmt: skip
    print("\nBlack Friday workload (localdev/black_friday.py), every DynamoDB write recorded:")
    print("\n".join(peak.lines()))
    print(f"\ncold import (median of 7 fresh interpreters): import boto3, pynamodb = {base:.0f} ms; "
          f"import app = {full:.0f} ms; ratio {full / base:.2f}")  # fmt: skip
    _with_demo_history(moto.url, emulator)
    emulator.stop()
    moto.stop()
    from localdev import bench_package  # the deployment zip's own figures (localdev/bench_package.py)

    bench_package.report_in_fresh_process()


def _with_demo_history(dynamodb_url: str, emulator: Any) -> None:
    """Order and eligibility latency, empty stack against demo history (localdev/bench_history.py)."""
    import requests
    from chalice.test import Client

    from app import app
    from chalicelib.services import api_keys, catalog
    from localdev import seed
    from localdev.bench_history import history_side_by_side
    from localdev.tables import create_tables

    requests.post(f"{dynamodb_url}/moto-api/reset", timeout=10)
    emulator.reset()
    create_tables()
    seed.seed()
    catalog.invalidate()
    api_keys.invalidate_cache()
    with Client(app) as client:
        headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
        history_side_by_side(client, lambda: _make_member(client, headers, emulator), _timed, dynamodb_url)


def _report_calls_by_volume(report: Callable[[], None]) -> tuple[int, int, int, int]:
    """DynamoDB calls of one report with 100 and with 10,000 orders in the ledger (its cost must not grow).

    The orders are loaded in bulk as the ledger entries the service writes (spread over 12 months and
    3 causes), then the totals are rebuilt from the ledger with `ops.rebuild_totals` (tests prove the
    rebuild equals the running totals): recording 10,000 orders one transaction at a time is slow on
    moto, whose transactions copy whole tables.
    """
    from chalicelib.domain.donations import PLEDGE
    from chalicelib.store.ledger import LedgerEntryRecord
    from localdev.dynamodb_calls import counting_dynamodb_calls
    from ops.rebuild_totals import recompute

    now = datetime.now(UTC)
    figures: list[int] = []
    loaded = 0
    for target in (100, 10_000):
        with LedgerEntryRecord.batch_write() as batch:
            for i in range(loaded, target):
                batch.save(LedgerEntryRecord(
                    f"pledge#order#volume-{i}", kind=PLEDGE, cause_id=CAUSES[i % 3], currency="usd",
                    amount=20 + i % 50, period=f"{now.year}-{1 + i % 12:02d}", orders=1, occurred_at=now,
                    recorded_at=now, customer_ref="volume",
                ))  # fmt: skip
        loaded = target
        recompute(write=True)
        with counting_dynamodb_calls() as counted:
            report()
        figures += [sum(counted.values()), target]
    return figures[0], figures[1], figures[2], figures[3]


def _black_friday(client: Any, emulator: Any, dynamodb_url: str) -> Any:
    """The Black Friday mix on fresh tables (the 10,000 bulk orders above would only slow moto down)."""
    import urllib.request

    from chalicelib.services import api_keys, catalog
    from localdev import black_friday, seed
    from localdev.tables import create_tables

    urllib.request.urlopen(
        urllib.request.Request(f"{dynamodb_url}/moto-api/reset", method="POST"), timeout=10
    )
    create_tables()
    emulator.reset()
    catalog.invalidate()
    api_keys.invalidate_cache()
    seed.seed()
    shop = black_friday.Shop(
        client, emulator, seed.BRAND_KEY, seed.STOREFRONT_KEY, _environment()["STRIPE_WEBHOOK_SECRET"]
    )
    return black_friday.run(shop)


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
