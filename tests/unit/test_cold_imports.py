"""What a cold `import app` leaves out: libraries only some requests need, and the code behind each area's
routes, are imported on first use (docs/performance.md, The deployment package; chalicelib/api/lazy.py).

Every route is registered at import (Chalice needs the whole route table), but a container that only ever
answers eligibility checks never imports the code of reports, Stripe webhooks or outbound events.
`tests/infra/test_packaged_lambda.py` checks the same of the real package answering its first check.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_FIRST_USE = ("stripe", "jwt", "standardwebhooks", "aiohttp")

# The code only some routes run, by area: imported by the first request of the area (or the hourly job).
ROUTE_CODE: dict[str, tuple[str, ...]] = {
    "memberships (checkout, sync, portal, cancel, pause, plan, cause)": (
        "chalicelib.services.members", "chalicelib.payments.subscriptions",
    ),
    "Stripe's webhooks": (
        "chalicelib.services.stripe_events", "chalicelib.payments.events", "chalicelib.payments.webhooks",
    ),
    "reconciliation": ("chalicelib.services.reconcile",),
    "orders, refunds and disbursements": (
        "chalicelib.services.donations", "chalicelib.domain.order", "chalicelib.domain.facts",
        "chalicelib.store.orders", "chalicelib.store.ledger",
    ),
    "giving": ("chalicelib.services.giving", "chalicelib.store.giving", "chalicelib.domain.giving_page"),
    "reports": (
        "chalicelib.services.reports", "chalicelib.services.program_report", "chalicelib.services.cohort_report",
        "chalicelib.services.membership_report", "chalicelib.domain.reports", "chalicelib.domain.program",
        "chalicelib.domain.membership_report", "chalicelib.domain.csv_export", "chalicelib.store.rollups",
        "chalicelib.store.totals", "chalicelib.store.member_listing",
    ),
    "referrals": ("chalicelib.services.referrals", "chalicelib.store.referrals", "chalicelib.payments.referrals"),
    "gift memberships": ("chalicelib.services.gifts", "chalicelib.store.gifts", "chalicelib.payments.gifts"),
    "outbound events": (
        "chalicelib.services.webhook_endpoints", "chalicelib.services.event_delivery",
        "chalicelib.outbound.queue", "chalicelib.outbound.sender", "chalicelib.outbound.urls",
        "chalicelib.store.events", "chalicelib.store.webhook_endpoints",
    ),
    "shoppers in the browser": ("chalicelib.services.shopper",),
    "the public offer": ("chalicelib.services.offer", "chalicelib.domain.disclosure"),
    "every write's unit of work": (
        "chalicelib.services.unit_of_work", "chalicelib.store.unit_of_work", "chalicelib.store.transaction",
    ),
}  # fmt: skip
# What the eligibility check itself runs: imported by the first check, so not by `import app` either.
ELIGIBILITY_CODE = (
    "chalicelib.services.eligibility",
    "chalicelib.services.access",
    "chalicelib.store.members",
)


def other_routes_code() -> list[str]:
    """Every module of `ROUTE_CODE`: what a container answering only eligibility checks never imports."""
    return [module for modules in ROUTE_CODE.values() for module in modules]


def _loaded_by_import_app(modules: list[str]) -> list[str]:
    script = f"import sys, json, app; print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_import_app_imports_no_library_that_only_some_requests_need() -> None:
    assert _loaded_by_import_app(list(ON_FIRST_USE)) == []


def test_import_app_imports_none_of_the_code_behind_the_routes() -> None:
    assert _loaded_by_import_app([*other_routes_code(), *ELIGIBILITY_CODE]) == []


def test_every_name_a_route_module_imports_on_first_use_exists() -> None:
    """A misspelt stand-in would fail only on the first request that needs it: resolve them all here."""
    script = """
import json, sys, app
from chalicelib.api import lazy
names, broken = 0, []
for module_name, module in sorted(sys.modules.items()):
    if not module_name.startswith("chalicelib.api."):
        continue
    for name, stand_in in lazy.stand_ins(vars(module)).items():
        names += 1
        try:
            lazy.loaded(stand_in) if isinstance(stand_in, lazy.LazyModule) else stand_in.resolve()
        except (ImportError, AttributeError) as exc:
            broken.append(f"{module_name}.{name}: {exc}")
print(json.dumps({"names": names, "broken": broken}))
"""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["broken"] == []
    assert found["names"] > 50  # the route modules' stand-ins were found at all


def test_every_module_named_here_exists() -> None:
    """A renamed module would make the tests above pass without checking anything."""
    missing = [m for m in [*other_routes_code(), *ELIGIBILITY_CODE] if importlib.util.find_spec(m) is None]
    assert missing == []
