"""The reconcile index spreads shoppers over buckets; the hourly job still finds the most overdue first."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from chalicelib.store import members
from chalicelib.store.members import MemberState

NOW = datetime.now(UTC)
EPOCH = int(NOW.timestamp())


def _file(customer_ref: str, reconcile_at: int | None) -> None:
    members.save_member(MemberState(customer_ref=customer_ref, reconcile_at=reconcile_at), NOW)


def test_shoppers_are_filed_under_many_keys_and_found_most_overdue_first() -> None:
    for n in range(30):
        _file(f"shopper-{n}", EPOCH - 60 * n)  # shopper-29 is the most overdue
    _file("later", EPOCH + 3600)
    _file("settled", None)

    keys = Counter(r.reconcile_shard for r in members.MemberRecord.scan() if r.reconcile_shard)

    assert len(keys) > 10 and max(keys.values()) <= 5
    assert members.due_for_reconcile(EPOCH, 5) == [f"shopper-{n}" for n in (29, 28, 27, 26, 25)]
    assert len(members.due_for_reconcile(EPOCH, 100)) == 30  # neither `later` nor `settled`
