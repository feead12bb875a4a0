"""The cohort report through the API: memberships through the emulator and Stripe's webhooks, orders and refunds."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.services import donations
from chalicelib.services.donations import OrderIn
from chalicelib.services.unit_of_work import on_dynamodb
from chalicelib.settings import settings as settings_of_the_stack
from localdev.cohort_volume import report_calls_by_orders
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.cohort_timeline import FEE, YEARLY, Step, Timeline, play
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club, subscription_of

MONTH = datetime.now(UTC).strftime("%Y-%m")


def _cohorts(club: Club, first: str = MONTH, last: str = MONTH, **query: str) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {"from": first, "to": last, **query}.items())
    return club.client.http.get(f"/v1/reports/cohorts?{params}", headers=auth(BRAND_KEY))


def _rows(club: Club) -> list[dict[str, Any]]:
    response = _cohorts(club)
    assert response.status_code == 200, response.body
    rows: list[dict[str, Any]] = json.loads(response.body)["data"]
    return rows


def _order(club: Club, order_id: str, amount: int, customer_ref: str = "ada") -> None:
    body = {"order_id": order_id, "customer_ref": customer_ref, "currency": "usd", "amount": amount}
    assert club.post("/v1/orders", body).status_code == 201


def _row(
    cohort: str, plan_id: str, joined: int, active: list[int], fees: int, revenue: int
) -> dict[str, Any]:
    return {"cohort": cohort, "plan_id": plan_id, "currency": "usd", "joined": joined, "active": active,
            "fees": fees, "revenue": revenue}  # fmt: skip


def test_a_shopper_who_pays_joins_the_cohort_of_that_month_and_plan(club: Club) -> None:
    club.join("ada")
    club.join("bob", "vip-yearly")
    assert _rows(club) == [
        _row(MONTH, "vip-monthly", 1, [1], FEE, 0),
        _row(MONTH, "vip-yearly", 1, [1], YEARLY, 0),
    ]


def test_a_checkout_never_paid_joins_no_cohort(club: Club) -> None:
    events = club.pay(club.start_checkout("ada"), "card_declined")
    assert set(club.deliver(events)) <= {200}
    _order(club, "o-1", 5000)
    assert _rows(club) == []


def test_a_trial_joins_once_it_is_paid(club: Club) -> None:
    subscription = club.join("ada", "vip-trial")
    assert _rows(club) == []  # trialing: not paid yet
    assert set(club.deliver(club.advance(subscription))) == {200}
    assert _rows(club) == [_row(MONTH, "vip-trial", 1, [1], FEE, 0)]


def test_a_members_life_renewal_orders_refund_lapse_and_rejoin(club: Club) -> None:
    subscription = club.join("ada")
    _order(club, "guest-order", 7000, customer_ref="guest")  # not in any cohort
    _order(club, "o-1", 10000)
    assert set(club.deliver(club.advance(subscription))) == {200}  # a renewal: its fee
    assert club.post("/v1/orders/o-1/refunds", {"refund_id": "r-1", "amount": 2500}).status_code == 201
    assert _rows(club) == [_row(MONTH, "vip-monthly", 1, [1], 2 * FEE, 7500)]

    assert club.post("/v1/members/ada/cancel", {"at_period_end": False}).status_code == 200
    assert _rows(club) == [_row(MONTH, "vip-monthly", 1, [0], 2 * FEE, 7500)]
    _order(club, "o-2", 3000)  # a lapsed member's order still counts for their cohort

    club.join("ada", "vip-yearly")  # back, on another plan: still the cohort they first joined
    _order(club, "o-3", 2000)
    assert _rows(club) == [_row(MONTH, "vip-monthly", 1, [1], 2 * FEE + YEARLY, 12500)]


def test_repeated_and_reordered_webhooks_change_nothing(club: Club) -> None:
    events = club.pay(club.start_checkout("ada"))
    assert set(club.deliver(list(reversed(events)))) == {200}
    subscription = subscription_of(events)
    renewal = club.advance(subscription)
    assert set(club.deliver(renewal)) == {200}
    before = _rows(club)
    assert before == [_row(MONTH, "vip-monthly", 1, [1], 2 * FEE, 0)]

    assert set(club.deliver([*events, *renewal, *reversed(events)])) == {200}
    assert club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    assert _rows(club) == before


def test_a_lapse_after_the_last_renewal_is_counted_once(club: Club) -> None:
    subscription = club.join("ada")
    assert club.post("/v1/members/ada/cancel", {}).status_code == 200  # at period end: perks until then
    assert _rows(club)[0]["active"] == [1]
    ended = club.advance(subscription)
    assert set(club.deliver([*ended, *ended])) == {200}
    assert club.post("/v1/admin/reconcile", {"customer_refs": ["ada"]}, key=BRAND_KEY).status_code == 200
    assert _rows(club) == [_row(MONTH, "vip-monthly", 1, [0], FEE, 0)]


def test_the_csv_has_the_json_columns_one_line_per_row(club: Club) -> None:
    club.join("ada")
    _order(club, "o-1", 4000)
    report = _rows(club)
    response = _cohorts(club, format="csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert f'filename="cohorts-{MONTH}-{MONTH}.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert list(rows[0]) == list(report[0])
    assert [
        {**r, "joined": int(r["joined"]), "active": [int(n) for n in r["active"].split()],
         "fees": int(r["fees"]), "revenue": int(r["revenue"])}
        for r in rows
    ] == report  # fmt: skip


def test_the_report_costs_the_same_dynamodb_calls_at_100_and_10_000_orders(club: Club) -> None:
    club.join("ada")
    for i in range(100):
        donations.record_order(
            OrderIn(order_id=f"o-{i}", customer_ref="ada", currency="usd", amount=1000), on_dynamodb()
        )
    with counting_dynamodb_calls() as few:
        assert _rows(club)[0]["revenue"] == 100 * 1000
    # then 100 and 10,000 more, added per shard as the orders' transactions would add them (`make bench` too)
    more = report_calls_by_orders(lambda: _rows(club), "ada")
    assert _rows(club)[0]["revenue"] == (100 + 10_000) * 1000
    # The orders moved the cohort's change stamps: its rollup and stamps, a Query per shard, the rollup stored.
    shards = settings_of_the_stack.totals_shards
    assert dict(few) == {"Query": 1 + shards, "BatchGetItem": 1, "BatchWriteItem": 1}
    assert more == (sum(few.values()), sum(few.values()))


def test_the_brand_command_prints_the_cohorts_and_writes_their_csv(
    club: Club, tmp_path: Any, capsys: Any, ops_on_test_tables: None
) -> None:
    from ops import program_report

    club.join("ada")
    _order(club, "o-1", 4000)
    out = tmp_path / "cohorts.csv"
    argv = ["--from", MONTH, "--to", MONTH, "--cohorts", "--csv", str(out), "--stage", "local"]
    assert program_report.main(argv) == 0
    printed = capsys.readouterr().out
    assert MONTH in printed and "vip-monthly" in printed and "9.99" in printed and "40.00" in printed
    lines = out.read_text().splitlines()
    assert lines == [
        "cohort,plan_id,currency,joined,active,fees,revenue",
        f"{MONTH},vip-monthly,usd,1,1,999,4000",
    ]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("from=2026-13&to=2026-12", "from"),
        ("from=2026-01&to=26-02", "to"),
        ("from=2026-05&to=2026-01", "from"),
        ("to=2026-01", "from"),
        ("from=2026-01&to=2026-02&format=xlsx", "format"),
        ("from=2026-01&to=2026-02&currency=usd", "currency"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(club: Club, query: str, param: str) -> None:
    response = club.client.http.get(f"/v1/reports/cohorts?{query}", headers=auth(BRAND_KEY))
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == param


def test_the_report_is_for_brand_keys_only(club: Club) -> None:
    response = club.client.http.get(f"/v1/reports/cohorts?from={MONTH}&to={MONTH}")
    assert response.status_code == 401
    response = club.client.http.get(
        f"/v1/reports/cohorts?from={MONTH}&to={MONTH}", headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 403


# ---------------------------------------------------------------------------------------------------------
# Over months: the same service calls Stripe's events end in, with the clock and Stripe's times set


START = datetime(2026, 1, 3, 9, 30, tzinfo=UTC)
REPORT_AT = datetime(2026, 7, 2, 12, 0, tzinfo=UTC)
# Joins on either plan, renewals, a cancellation and a rejoin months apart, orders before and after joining,
# partial refunds, a late repeated delivery (many more timelines run in memory: tests/unit/test_cohort_properties.py).
STEPS: list[Step] = [
    ("bob", "order", "vip-monthly", 0, 2500),
    ("ada", "join", "vip-monthly", 3, 0),
    ("bob", "join", "vip-yearly", 12, 0),
    ("ada", "order", "vip-monthly", 5, 12_000),
    ("ada", "renew", "vip-monthly", 16, 0),
    ("ada", "refund", "vip-monthly", 4, 0),
    ("bob", "cancel", "vip-yearly", 18, 0),
    ("cy", "order", "vip-monthly", 9, 700),
    ("ada", "replay", "vip-monthly", 2, 0),
    ("bob", "join", "vip-monthly", 17, 0),
    ("bob", "order", "vip-monthly", 6, 4000),
    ("cy", "join", "vip-yearly", 18, 0),
]


def test_the_cohort_report_over_the_api_equals_a_recomputation_from_what_happened(club: Club) -> None:
    timeline = Timeline(on_dynamodb)
    play(timeline, STEPS, START)
    clock.set_clock(lambda: REPORT_AT)
    for first in ("2026-01", "2026-03"):
        response = _cohorts(club, first, "2026-07")
        assert response.status_code == 200, response.body
        assert json.loads(response.body)["data"] == timeline.model.report(first, "2026-07", "2026-07")


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+00:00")


def test_the_documented_cohort_example_is_what_the_service_answers(club: Club) -> None:
    text = (Path(__file__).resolve().parents[3] / "docs" / "program.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- cohort-example -->\s*```json\n(.*?)```", text, re.S)
    assert match, "docs/program.md lost its cohort example"
    timeline = Timeline(on_dynamodb)
    timeline.join("ada", "vip-monthly", _at("2026-09-04"))
    timeline.join("bob", "vip-monthly", _at("2026-09-10"))
    ada_order = timeline.order("ada", 12000, _at("2026-09-12"))
    timeline.renew("ada", _at("2026-10-04"))
    timeline.cancel("bob", _at("2026-10-06"))
    timeline.order("bob", 4000, _at("2026-10-20"))
    timeline.refund(_at("2026-10-25"), ada_order, 2000)
    timeline.join("bob", "vip-monthly", _at("2026-11-02"))
    timeline.renew("ada", _at("2026-11-02"))
    timeline.order("bob", 7500, _at("2026-11-03"))

    clock.set_clock(lambda: _at("2026-11-20"))
    response = _cohorts(club, "2026-09", "2026-11")
    assert response.status_code == 200, response.body
    assert json.loads(response.body)["data"] == [json.loads(match.group(1))]
    assert timeline.model.report("2026-09", "2026-11", "2026-11") == [json.loads(match.group(1))]
