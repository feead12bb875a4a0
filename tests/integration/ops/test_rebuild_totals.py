"""Data written in the earlier key layout (unsharded totals, one listing key, one reconcile key) is moved
into the current one by `python -m ops.rebuild_totals --migrate`, and reads the same afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.domain.donations import Balance
from chalicelib.store import ledger, members, orders, totals
from ops import rebuild_totals
from tests.helpers import BRAND_KEY, auth
from tests.integration.conftest import Club

NOW = datetime.now(UTC)
MONTH = NOW.strftime("%Y-%m")
OVERDUE = int(NOW.timestamp()) - 3600


@pytest.fixture
def earlier_layout(club: Club) -> Club:
    """What the service wrote before write sharding: a pledge of 200 and a payout of 50 to general-fund."""
    pledge = dict(cause_id="general-fund", currency="usd", period=MONTH, occurred_at=NOW, recorded_at=NOW)
    ledger.LedgerEntryRecord("pledge#order#o-1", kind="pledge", amount=200, orders=1, customer_ref="ada",
                             **pledge).save()  # fmt: skip
    ledger.LedgerEntryRecord(
        "disbursement#d-old", kind="disbursement", amount=50, listing="disbursement", request_hash="h",
        response=json.dumps({"disbursement_id": "d-old", "cause_id": "general-fund", "currency": "usd",
                             "amount": 50, "paid_at": NOW.isoformat(), "reference": "wire 1",
                             "recorded_at": NOW.isoformat()}),
        **pledge,
    ).save()  # fmt: skip
    sums = dict(pledged=200, disbursed=50, orders=1)
    totals.DonationTotalsRecord("month", f"{MONTH}#general-fund#usd", **sums).save()
    totals.DonationTotalsRecord("all", "general-fund#usd", **sums).save()
    totals.DonationTotalsRecord("member#ada", "usd", pledged=200).save()
    members.MemberRecord(
        "ada", reconcile_shard="due", reconcile_at=OVERDUE, created_at=NOW, updated_at=NOW
    ).save()
    # An order whose member flag and savings were only in its recorded answer.
    answer = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 10000, "member": True,
              "donation": {"amount": 200, "currency": "usd", "cause_id": "general-fund"},
              "savings": {"member_discount": 1000, "shipping": 0}}  # fmt: skip
    orders.OrderRecord("o-1", "order", request_hash="h", response=json.dumps(answer), amount=10000, currency="usd",
                       customer_ref="ada", cause_id="general-fund", donation=200, created_at=NOW).save()  # fmt: skip
    return club


def _totals(club: Club) -> list[dict[str, Any]]:
    response = club.client.http.get(f"/v1/reports/donations?from={MONTH}&to={MONTH}", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body
    totals: list[dict[str, Any]] = json.loads(response.body)["totals"]
    return totals


def test_the_earlier_layout_agrees_with_the_ledger_before_it_is_moved(earlier_layout: Club) -> None:
    assert rebuild_totals.recompute() == []


def test_migrating_moves_every_earlier_item_once(
    earlier_layout: Club, capsys: Any, ops_on_test_tables: None
) -> None:
    assert rebuild_totals.main(["--stage", "local", "--migrate"]) == 0
    assert rebuild_totals.main(["--stage", "local", "--migrate"]) == 0

    first, again = capsys.readouterr().out.split("0 difference(s)\n")[:2]
    assert "moved 2 totals items" in first and "moved 1 disbursement listing keys" in first
    assert "moved 1 reconcile index keys" in first and "moved 1 member totals items" in first
    assert "moved 1 order records' facts" in first
    assert again.count("moved 0") == 5


def test_after_migrating_reports_listings_payouts_and_reconciliation_read_the_old_data(
    earlier_layout: Club,
) -> None:
    rebuild_totals.migrate()

    assert totals.member_totals("ada") == {("usd", "general-fund"): Balance(pledged=200)}
    assert _totals(earlier_layout) == [
        {"cause_id": "general-fund", "currency": "usd", "net": 200, "disbursed": 50, "outstanding": 150}
    ]
    listed = json.loads(earlier_layout.client.http.get("/v1/disbursements", headers=auth(BRAND_KEY)).body)
    assert [d["disbursement_id"] for d in listed["data"]] == ["d-old"]
    assert members.due_for_reconcile(int(NOW.timestamp()), 10) == ["ada"]
    stored = orders.OrderRecord.get("o-1", "order")
    assert (stored.member, stored.member_discount, stored.shipping) == (True, 1000, 0)
    payout = {"cause_id": "general-fund", "currency": "usd", "paid_at": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "reference": "wire 2"}  # fmt: skip
    over = earlier_layout.post(
        "/v1/disbursements", {**payout, "disbursement_id": "d-2", "amount": 151}, BRAND_KEY
    )
    exact = earlier_layout.post(
        "/v1/disbursements", {**payout, "disbursement_id": "d-3", "amount": 150}, BRAND_KEY
    )
    assert (over.status_code, exact.status_code) == (409, 201)
    assert rebuild_totals.recompute() == []


def test_rebuilding_the_totals_shows_in_the_very_next_report(club: Club) -> None:
    from chalicelib.store.transaction import Transaction

    club.join("ada")
    order = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 10000}
    assert club.post("/v1/orders", order).status_code == 201
    [before] = _totals(club)
    # A totals item that drifted from the ledger (whatever wrote it), seen by the next report and rolled up
    drift = Transaction()
    item = next(iter(totals.DonationTotalsRecord.scan(totals.DonationTotalsRecord.scope.startswith("all#"))))
    drift.update(
        totals.DonationTotalsRecord(item.scope, item.key),
        actions=[totals.DonationTotalsRecord.pledged.add(999)],
    )
    drift.commit()
    assert _totals(club)[0]["net"] == before["net"] + 999

    assert rebuild_totals.recompute(write=True) != []  # the difference found, the totals replaced

    assert _totals(club) == [before]  # the rewrite bumped the stamps: summed again, as the ledger says
    assert rebuild_totals.recompute() == []
