"""GET /v1/reports/memberships: members per plan and status, MRR, joins and cancellations, through the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.domain.times import month_of
from chalicelib.store import members as store
from chalicelib.store.members import MemberState
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import PLANS, Club


def _report(club: Club, query: str = "", key: str = BRAND_KEY) -> Any:
    return club.client.http.get(f"/v1/reports/memberships{query}", headers=auth(key))


def _left_in_january(customer_ref: str) -> None:
    """A shopper who joined in December 2025 and whose membership ended in January 2026."""
    joined, ended = datetime(2025, 12, 3, tzinfo=UTC), datetime(2026, 1, 20, tzinfo=UTC)
    snapshot = SubscriptionSnapshot(
        subscription_id=f"sub_{customer_ref}",
        status="canceled",
        plan_id="vip-monthly",
        created=int(joined.timestamp()),
        current_period_start=int(joined.timestamp()),
        current_period_end=int((joined + timedelta(days=31)).timestamp()),
        canceled_at=int(ended.timestamp()),
        ended_at=int(ended.timestamp()),
    )
    store.save_member(MemberState(customer_ref=customer_ref, subscriptions=[snapshot]), clock.now())


def test_members_are_counted_per_plan_and_status_and_paying_ones_make_the_mrr(club: Club) -> None:
    club.join("ada", "vip-monthly")
    club.join("bob", "vip-yearly")
    club.join("cy", "vip-monthly")
    _left_in_january("dee")
    store.save_member(MemberState(customer_ref="eve"), clock.now())  # started nothing: not counted

    response = _report(club)

    assert response.status_code == 200, response.body
    report = json.loads(response.body)
    assert report["members"] == [
        {"plan_id": "vip-monthly", "status": "active", "members": 2, "perks_active": 2},
        {"plan_id": "vip-monthly", "status": "canceled", "members": 1, "perks_active": 0},
        {"plan_id": "vip-yearly", "status": "active", "members": 1, "perks_active": 1},
    ]
    # 2 × 9.99 a month + 99.00 a year / 12 = 19.98 + 8.25.
    assert report["mrr"] == [{"currency": "usd", "mrr": 2823, "mrr_decimal": "28.23", "paying_members": 3}]


def test_mrr_counts_each_subscription_at_its_own_price(club: Club) -> None:
    club.join("ada", "vip-monthly")  # at 9.99
    raised = {**PLANS["vip-monthly"], "amount": 1299}
    response = club.client.http.put("/v1/plans/vip-monthly", body=json.dumps(raised), headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    club.join("bob", "vip-monthly")  # at the new 12.99; Ada keeps her price, as Stripe bills her

    report = json.loads(_report(club).body)

    assert report["mrr"] == [
        {"currency": "usd", "mrr": 999 + 1299, "mrr_decimal": "22.98", "paying_members": 2}
    ]


def test_trials_pay_nothing_yet(club: Club) -> None:
    club.join("ada", "vip-trial")
    club.join("bob", "vip-yearly")

    report = json.loads(_report(club).body)

    assert report["mrr"] == [{"currency": "usd", "mrr": 825, "mrr_decimal": "8.25", "paying_members": 1}]


def test_joins_and_cancellations_are_counted_in_the_month_they_happened(club: Club) -> None:
    club.join("ada")
    _left_in_january("dee")
    this_month = month_of(clock.now())

    response = _report(club, f"?from=2025-12&to={this_month}")

    assert response.status_code == 200, response.body
    months = {m["period"]: (m["joins"], m["cancellations"]) for m in json.loads(response.body)["months"]}
    assert months["2025-12"] == (1, 0)
    assert months["2026-01"] == (0, 1)
    assert months[this_month] == (1, 0)
    assert sorted(months) == list(months)  # every month of the range, in order


def test_by_default_the_months_are_the_twelve_ending_now(club: Club) -> None:
    response = _report(club)

    periods = [m["period"] for m in json.loads(response.body)["months"]]
    assert len(periods) == 12 and periods[-1] == month_of(clock.now())


def test_the_month_range_is_validated_and_the_field_named(club: Club) -> None:
    for query, param in [
        ("?from=2026-13", "from"),
        ("?to=26-01", "to"),
        ("?from=2026-05&to=2026-04", "from"),
        ("?from=2000-01&to=2026-01", "to"),
        ("?month=2026-01", "month"),
    ]:
        response = _report(club, query)
        assert response.status_code == 400, query
        assert json.loads(response.body)["error"]["param"] == param, query


def test_only_the_brand_team_reads_the_memberships_report(club: Club) -> None:
    assert _report(club, key=STOREFRONT_KEY).status_code == 403
    assert club.client.http.get("/v1/reports/memberships").status_code == 401


def test_the_memberships_report_command_prints_the_report(
    club: Club, capsys: Any, ops_on_test_tables: None
) -> None:
    from ops import memberships_report

    club.join("ada", "vip-yearly")

    assert memberships_report.main(["--stage", "local"]) == 0
    printed = capsys.readouterr().out
    assert "vip-yearly" in printed and "8.25" in printed  # 99.00 a year is 8.25 a month

    assert memberships_report.main(["--from", "2026-1", "--stage", "local"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err


def test_the_memberships_report_as_csv_has_one_row_per_item_of_each_list(club: Club) -> None:
    club.join("ada", "vip-monthly")
    report = json.loads(_report(club).body)
    response = _report(club, "?format=csv")
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.body.decode().splitlines()
    assert lines[0].startswith("section,plan_id,status,members")
    sections = [line.split(",")[0] for line in lines[1:]]
    assert sections.count("members") == len(report["members"]) and sections.count("mrr") == 1
    assert sections.count("months") == len(report["months"])
    assert "mrr,,,,,usd,999,9.99,1,,," in lines


def test_a_member_who_paused_in_the_portal_keeps_counting_without_perks_or_mrr(club: Club) -> None:
    club.join("ada", "vip-monthly")
    paused = club.join("bob", "vip-monthly")
    before = len(club.emulator.events)
    club.emulator.pause(paused, "void")
    assert set(club.deliver(club.emulator.events_since(before))) == {200}

    report = json.loads(_report(club).body)

    assert report["members"] == [
        {"plan_id": "vip-monthly", "status": "active", "members": 2, "perks_active": 1}
    ]
    assert report["mrr"] == [{"currency": "usd", "mrr": 999, "mrr_decimal": "9.99", "paying_members": 1}]
