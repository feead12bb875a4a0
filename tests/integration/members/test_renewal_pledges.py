"""A renewal's donation is pledged exactly once, whether its `invoice.paid` arrives, is lost, or arrives late.

The emulator's webhook delivery is off in these tests: an event the test does not post is a lost
delivery, and posting it later is a late one.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.domain.member import renewal_pledge_id
from chalicelib.store import members as store
from chalicelib.store.ledger import LedgerEntryRecord
from localdev.dynamodb_calls import counting_dynamodb_calls
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth
from tests.integration.conftest import Club

# vip-monthly: 9.99 a month, 10 % of each paid invoice pledged.
FEE_PLEDGE = 100


def _reconcile(club: Club, *refs: str) -> dict[str, int]:
    response = club.post("/v1/admin/reconcile", {"customer_refs": list(refs)}, key=BRAND_KEY)
    assert response.status_code == 200, response.body
    result: dict[str, int] = json.loads(response.body)
    return result


def _pledged(club: Club) -> int:
    pledged: int = club.member("ada")["impact"]["usd"]["pledged"]
    return pledged


def _invoice_paid(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e for e in events if e["type"] == "invoice.paid")


def _renewal_entries(invoice_id: str) -> int:
    return LedgerEntryRecord.count(renewal_pledge_id(invoice_id))


def test_a_lost_renewal_is_pledged_once_by_reconciliation_and_its_late_delivery_changes_nothing(
    club: Club,
) -> None:
    subscription_id = club.join("ada")
    renewal = club.advance(subscription_id)  # every renewal event is lost
    invoice = _invoice_paid(renewal)["data"]["object"]
    assert _pledged(club) == FEE_PLEDGE
    stale = club.member("ada")

    result = _reconcile(club, "ada")
    healed = club.member("ada")
    # The pledge, and the membership when its period moved (the emulator renews "now", to the second).
    period_moved = healed["current_period_end"] != stale["current_period_end"]
    assert result == {"checked": 1, "fixed": 1 + period_moved, "failed": 0, "left": 0, "stopped_early": False}
    assert _pledged(club) == 2 * FEE_PLEDGE
    assert _reconcile(club, "ada") == {
        "checked": 1,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    before = club.member("ada")

    assert club.deliver(renewal) == [200] * len(renewal)  # Stripe delivers late, after all
    assert _pledged(club) == 2 * FEE_PLEDGE
    assert _renewal_entries(invoice["id"]) == 1
    assert club.member("ada") == before


def test_a_renewal_delivered_first_is_not_pledged_again_by_reconciliation(club: Club) -> None:
    subscription_id = club.join("ada")
    renewal = club.advance(subscription_id)
    assert set(club.deliver(renewal)) == {200}
    assert _pledged(club) == 2 * FEE_PLEDGE

    assert _reconcile(club, "ada") == {
        "checked": 1,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    assert _pledged(club) == 2 * FEE_PLEDGE
    assert _renewal_entries(_invoice_paid(renewal)["data"]["object"]["id"]) == 1


def test_an_invoice_pledged_before_the_member_remembered_it_is_not_pledged_again(club: Club) -> None:
    """The ledger entry's id decides, even when the member item does not list the invoice."""
    subscription_id = club.join("ada")
    assert set(club.deliver(club.advance(subscription_id))) == {200}
    member = store.get_member("ada")
    assert member is not None and len(member.paid_invoices) == 2
    member.paid_invoices = []
    store.save_member(member, member.created_at)  # type: ignore[arg-type]

    assert _reconcile(club, "ada") == {
        "checked": 1,
        "fixed": 0,
        "failed": 0,
        "left": 0,
        "stopped_early": False,
    }
    assert _pledged(club) == 2 * FEE_PLEDGE
    remembered = store.get_member("ada")
    assert remembered is not None and len(remembered.paid_invoices) == 2


def test_a_duplicate_invoice_paid_changes_nothing(club: Club) -> None:
    subscription_id = club.join("ada")
    paid = _invoice_paid(club.advance(subscription_id))
    assert club.deliver([paid, paid]) == [200, 200]
    assert _pledged(club) == 2 * FEE_PLEDGE


def test_invoice_paid_costs_one_read_the_value_one_transaction_and_one_stripe_call(club: Club) -> None:
    """The renewal's event is one more item of the fact's transaction; its recap and membership cost
    the member's value (two Queries, whatever the length of the member's history)."""
    subscription_id = club.join("ada")  # warms the plan cache, as a running function would be
    paid = _invoice_paid(club.advance(subscription_id))
    transactions: list[list[dict[str, Any]]] = []

    def capture(params: dict[str, Any], **_: Any) -> None:
        transactions.append(params["TransactItems"])

    stripe_before = len(club.emulator.api_requests)
    from chalicelib.store.base import transaction_connection

    events = transaction_connection().client.meta.events
    events.register("provide-client-params.dynamodb.TransactWriteItems", capture)
    try:
        with counting_dynamodb_calls() as calls:
            assert club.deliver([paid]) == [200]
    finally:
        events.unregister("provide-client-params.dynamodb.TransactWriteItems", capture)

    assert dict(calls) == {"GetItem": 1, "Query": 2, "TransactWriteItems": 1}
    assert club.emulator.api_requests[stripe_before:] == [f"GET /v1/subscriptions/{subscription_id}"]
    (items,) = transactions
    puts = {(i["Put"]["TableName"], _key(i["Put"])) for i in items if "Put" in i}
    events = [
        json.loads(i["Put"]["Item"]["body"]["S"])
        for i in items
        if "Put" in i and "events" in i["Put"]["TableName"]
    ]
    assert [event["type"] for event in events] == ["member.renewed"]
    puts -= {("vip-test-events", event["id"]) for event in events}
    # The pledge's line in the shopper's impact statement (`store.giving`): the same transaction.
    statement = {p for p in puts if p[0] == "vip-test-giving"}
    assert len(statement) == 1
    assert puts - statement == {
        ("vip-test-members", "ada"),
        ("vip-test-idempotency", f"stripe-event#{paid['id']}"),
        ("vip-test-ledger", renewal_pledge_id(paid["data"]["object"]["id"])),
    }
    # The pledge's totals and its cause's pledge day, and the fee's program counters and the member's
    # value: the same transaction.
    assert {i["Update"]["TableName"] for i in items if "Update" in i} == {
        "vip-test-donation_totals",
        "vip-test-giving",
        "vip-test-program",
    }
    assert _pledged(club) == 2 * FEE_PLEDGE


KEYS = {"vip-test-members": "customer_ref", "vip-test-idempotency": "key", "vip-test-ledger": "entry_id",
        "vip-test-events": "event_id", "vip-test-giving": "key"}  # fmt: skip


def _key(put: dict[str, Any]) -> str:
    value: str = put["Item"][KEYS[put["TableName"]]]["S"]
    return value


def test_a_renewal_pledges_to_the_cause_chosen_since_joining(club: Club) -> None:
    subscription_id = club.join("ada")
    joined = store.get_member("ada")
    response = club.client.http.put(
        "/v1/members/ada/cause", body=json.dumps({"cause_id": "school-meals"}), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 200, response.body
    changed = store.get_member("ada")
    assert joined is not None and changed is not None
    assert (changed.cause_id, changed.version) == ("school-meals", (joined.version or 0) + 1)

    paid = _invoice_paid(club.advance(subscription_id))
    assert club.deliver([paid]) == [200]
    entry = LedgerEntryRecord.get(renewal_pledge_id(paid["data"]["object"]["id"]))
    assert (entry.cause_id, int(entry.amount)) == ("school-meals", FEE_PLEDGE)
    assert club.member("ada")["cause_id"] == "school-meals"
