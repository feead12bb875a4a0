"""The deployment package's figures for `make bench`: the real zip (`make package`), unpacked into a
read-only directory and run as Lambda runs it (`localdev/packaged_lambda.py`: a fresh Python without
site-packages, `PYTHONDONTWRITEBYTECODE=1`), each figure next to a floor measured in the same run:

- the zip's size, against the 8 MB budget `make package` enforces;
- cold `import app`, against `import boto3, pynamodb.models` (what any function using pynamodb pays);
- the cold first eligibility answer (import, the API key, plans and member reads: the first request a new
  container serves), against importing boto3 and pynamodb and making one bare GetItem of the same member;
- peak memory (the process's peak resident size, VmHWM) after 1,000 warm eligibility checks, against a
  container that only imported boto3 and pynamodb.models.

Times are measured inside each fresh interpreter (its own start-up is the same for both sides), the two
sides alternate run by run and the medians are compared. DynamoDB is moto server on loopback, seeded
with the demo plans, a storefront key and a paying member (through the Stripe emulator). boto3 is not
in the package: Lambda's runtime provides it, so it is put after the package on the path, compiled
like the package.

With `--baseline OTHER.zip` (another build, e.g. of the commit before a change), that package's cold
import and first answer are measured in the same rotation, against the same floors: a before/after
comparison that the machine's load cannot skew, as each run samples every side in turn.

    python -m localdev.bench_package [path/to/package.zip] [--baseline path/to/other.zip]
    (make package first; make bench does, and passes BENCH_BASELINE=path/to/other.zip on as --baseline)
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.bench import bench_environment
from localdev.packaged_lambda import (
    PackagedLambda,
    api_event,
    make_read_only,
    packaged_lambda,
    unpack_read_only,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dist" / "vip-rewards-x86_64.zip"
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "21"))
WARM_CHECKS = 1000
WARM_CONTAINERS = 3
MEMBER = "bench-member"
CART = {
    "customer_ref": MEMBER,
    "currency": "usd",
    "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2},
              {"sku": "gift", "unit_amount": 1000, "quantity": 1, "discountable": False}],
    "shipping": {"method": "standard", "amount": 595},
}  # fmt: skip
# The floor: a function that only imports boto3 and pynamodb and makes one GetItem with a boto3 client.
FLOOR = """
import os

import boto3
import pynamodb.models  # noqa: F401


def imported(event, context):
    return None


def get_item(event, context):
    client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_HOST"])
    return client.get_item(TableName=event["table"], Key=event["key"])["Item"]
"""


@dataclass(frozen=True)
class Comparison:
    name: str
    measured: float
    floor: float
    floor_name: str
    unit: str
    target: float

    @property
    def ratio(self) -> float:
        return self.measured / self.floor

    def line(self) -> str:
        verdict = "met" if self.ratio <= self.target else "not met"
        return (
            f"{self.name:<44} {self.measured:>8.1f} {self.unit:<4} ÷ {self.floor_name:<46} "
            f"{self.floor:>8.1f} {self.unit:<4} = {self.ratio:.2f}× (target ≤ {self.target:.1f}×, {verdict})"
        )


@dataclass(frozen=True)
class Baseline:
    """Another build's cold figures, measured in the same rotation as the package's."""

    package: Path
    cold_import: Comparison
    cold_answer: Comparison

    def lines(self, current: PackageFigures) -> list[str]:
        return [
            f"baseline {self.package}, measured in the same runs:",
            self.cold_import.line(),
            self.cold_answer.line(),
            f"  package ÷ baseline: cold import {current.cold_import.ratio / self.cold_import.ratio:.2f}×, "
            f"cold first answer {current.cold_answer.ratio / self.cold_answer.ratio:.2f}×",
        ]


@dataclass(frozen=True)
class PackageFigures:
    package: Path
    size: Comparison
    cold_import: Comparison
    cold_answer: Comparison
    warm_memory: Comparison
    app_import_rss_mib: float
    warm_check_ms: float
    runs: int
    baseline: Baseline | None = None

    def lines(self) -> list[str]:
        lines = [
            f"deployment package {self.package.name}, unpacked read-only, run as Lambda runs it "
            f"(medians of {self.runs} fresh interpreters per side, alternating):",
            self.size.line(),
            self.cold_import.line(),
            self.cold_answer.line(),
            self.warm_memory.line(),
            f"  (a container that imported app only: {self.app_import_rss_mib:.1f} MiB; "
            f"a warm check in-process: {self.warm_check_ms:.2f} ms on average)",
        ]
        return lines if self.baseline is None else lines + self.baseline.lines(self)


def environment(dynamodb_url: str, stripe_url: str) -> dict[str, str]:
    """The function's environment as deployed (LOG_LEVEL INFO), pointed at the local services."""
    return {
        **bench_environment(),
        "TABLE_PREFIX": "vip-bench-package",
        "LOG_LEVEL": "INFO",
        "DYNAMODB_HOST": dynamodb_url,
        "STRIPE_API_BASE": stripe_url,
    }


def lambda_runtime(directory: Path) -> Path:
    """What Lambda's Python runtime adds after the package: boto3 (and s3transfer), plus the floor."""
    import boto3
    import s3transfer

    for module in (boto3, s3transfer):
        shutil.copytree(Path(module.__file__).parent, directory / module.__name__,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (directory / "floor.py").write_text(FLOOR)
    compileall.compile_dir(
        directory, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    return make_read_only(directory)


def _medians(runs: int, *sides: Callable[[], float]) -> list[float]:
    """Medians of `runs` samples per side; each run samples every side once, in a rotating order."""
    samples: list[list[float]] = [[] for _ in sides]
    for run in range(runs):
        for turn in range(len(sides)):
            side = (run + turn) % len(sides)
            samples[side].append(sides[side]())
    return [statistics.median(taken) for taken in samples]


def measure(package: Path, runs: int = COLD_RUNS, baseline: Path | None = None) -> PackageFigures:
    from localdev.dynamodb_server import SerialMotoServer
    from localdev.stripe_emulator import Emulator

    moto = SerialMotoServer("127.0.0.1", 0).start()
    emulator = Emulator(host="127.0.0.1", port=0, webhook_url=None, webhook_secret="whsec_bench").start()
    env = environment(moto.url, emulator.base_url)
    try:
        os.environ.update(env, LOG_LEVEL="WARNING")  # for the seeding here; the containers log as deployed
        member_key = _seed(emulator)
        with tempfile.TemporaryDirectory(prefix="vip-bench-package-") as scratch:
            task = unpack_read_only(package, Path(scratch) / "task")
            runtime = lambda_runtime(Path(scratch) / "runtime")

            def container() -> Any:
                return packaged_lambda(task, env, runtime_dir=runtime)

            other = None
            if baseline is not None:
                baseline_task = unpack_read_only(baseline, Path(scratch) / "baseline")

                def other() -> Any:
                    return packaged_lambda(baseline_task, env, runtime_dir=runtime)

            return _figures(package, container, member_key, runs, baseline, other)
    finally:
        emulator.stop()
        moto.stop()


def _figures(
    package: Path,
    container: Callable[[], Any],
    member_key: dict[str, Any],
    runs: int,
    baseline: Path | None = None,
    baseline_container: Callable[[], Any] | None = None,
) -> PackageFigures:
    from localdev import seed

    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}"}
    check = api_event("POST", "/v1/eligibility", body=CART, headers=headers)
    floor_rss: list[int] = []

    def floor_import() -> float:
        with container() as runtime:
            runtime.invoke("floor.imported", None, repeat=0)
            floor_rss.append(runtime.maxrss_kib)
            return float(runtime.elapsed_ms)

    def app_import() -> float:
        with container() as runtime:
            runtime.invoke("app.app", None, repeat=0)
            app_rss.append(runtime.maxrss_kib)
            return float(runtime.elapsed_ms)

    def baseline_import() -> float:
        assert baseline_container is not None
        with baseline_container() as runtime:
            runtime.invoke("app.app", None, repeat=0)
            return float(runtime.elapsed_ms)

    app_rss: list[int] = []
    import_sides = [app_import, floor_import] + ([baseline_import] if baseline_container else [])
    import_ms, floor_import_ms, *baseline_import_ms = _medians(runs, *import_sides)

    def first_answer() -> float:
        with container() as runtime:
            return _first_answer(runtime, check)

    def baseline_answer() -> float:
        assert baseline_container is not None
        with baseline_container() as runtime:
            return _first_answer(runtime, check)

    def floor_answer() -> float:
        with container() as runtime:
            item = runtime.invoke("floor.get_item", member_key)
            assert item["customer_ref"] == {"S": MEMBER}, item
            return float(runtime.elapsed_ms)

    answer_sides = [first_answer, floor_answer] + ([baseline_answer] if baseline_container else [])
    answer_ms, floor_answer_ms, *baseline_answer_ms = _medians(runs, *answer_sides)

    warm_rss: list[int] = []
    warm_ms: list[float] = []
    for _ in range(WARM_CONTAINERS):
        with container() as runtime:
            _first_answer(runtime, check)
            response = runtime.invoke("app.app", check, repeat=WARM_CHECKS)
            assert response["statusCode"] == 200, response
            warm_rss.append(runtime.maxrss_kib)
            warm_ms.append(runtime.elapsed_ms / WARM_CHECKS)

    mib = 1024.0
    size = package.stat().st_size / 1024 / 1024
    import_floor = "import boto3, pynamodb.models"
    answer_floor = "import boto3 + pynamodb, one bare GetItem"
    before = None
    if baseline is not None:
        before = Baseline(
            package=baseline,
            cold_import=Comparison("cold import app", baseline_import_ms[0], floor_import_ms, import_floor,
                                   "ms", 1.0),
            cold_answer=Comparison("cold first eligibility answer", baseline_answer_ms[0], floor_answer_ms,
                                   answer_floor, "ms", 1.0),
        )  # fmt: skip
    return PackageFigures(
        package=package,
        size=Comparison("zip size", size, 8.0, "the budget", "MB", 1.0),
        cold_import=Comparison("cold import app", import_ms, floor_import_ms, import_floor, "ms", 1.0),
        cold_answer=Comparison("cold first eligibility answer", answer_ms, floor_answer_ms, answer_floor,
                               "ms", 1.0),
        warm_memory=Comparison(f"peak memory after {WARM_CHECKS:,} warm checks",
                               statistics.median(warm_rss) / mib, statistics.median(floor_rss) / mib,
                               "import boto3, pynamodb.models only", "MiB", 1.3),
        app_import_rss_mib=statistics.median(app_rss) / mib,
        warm_check_ms=statistics.median(warm_ms),
        runs=runs,
        baseline=before,
    )  # fmt: skip


def _first_answer(runtime: PackagedLambda, check: dict[str, Any]) -> float:
    response = runtime.invoke("app.app", check)
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["member"] is True, response["body"]
    return float(runtime.elapsed_ms)


def _seed(emulator: Any) -> dict[str, Any]:
    """Tables, the demo plans and keys, and a paying member (checkout paid on the emulator, synced).

    Returns the floor's GetItem of that member: its table and key, as the store names them.
    """
    from chalice.test import Client

    from app import app
    from chalicelib.store.members import MemberRecord
    from localdev import seed
    from localdev.tables import create_tables

    create_tables()
    seed.seed()
    headers = {"Authorization": f"Bearer {seed.STOREFRONT_KEY}", "Content-Type": "application/json"}
    with Client(app) as client:
        response = client.http.post(
            f"/v1/members/{MEMBER}/checkout", headers=headers,
            body=json.dumps({"plan_id": "vip-monthly", "email": "bench@example.com",
                             "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
        )  # fmt: skip
        assert response.status_code == 201, response.body
        emulator.complete_checkout(json.loads(response.body)["session_id"], "succeeded")
        synced = client.http.post(f"/v1/members/{MEMBER}/sync", body="{}", headers=headers)
        assert json.loads(synced.body)["perks_active"] is True, synced.body
    return {"table": MemberRecord.Meta.table_name, "key": {"customer_ref": {"S": MEMBER}}}


def report_in_fresh_process() -> None:
    """Print the figures from a fresh process (this one's `app` would point at another DynamoDB)."""
    print(flush=True)
    subprocess.run([sys.executable, "-m", "localdev.bench_package"], cwd=ROOT, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.bench_package", description="The deployment package's figures."
    )
    parser.add_argument("package", nargs="?", type=Path, default=PACKAGE)
    baseline = os.environ.get("BENCH_BASELINE")  # `make bench BENCH_BASELINE=...` passes it through
    parser.add_argument(
        "--baseline", type=Path, default=Path(baseline) if baseline else None,
        help="another build, measured in the same runs (default: $BENCH_BASELINE)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    for package in (args.package, args.baseline):
        if package is not None and not package.exists():
            raise SystemExit(f"{package} not found: run `make package` first")
    figures = measure(args.package, baseline=args.baseline)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("\n".join(figures.lines()))


if __name__ == "__main__":
    main()
