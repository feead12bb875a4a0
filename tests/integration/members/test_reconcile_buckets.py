"""The reconcile index spreads shoppers over buckets; the hourly job walks them from a given bucket, each
bucket's most overdue first."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise

from chalicelib.store import members
from chalicelib.store.members import MemberState

NOW = datetime.now(UTC)
EPOCH = int(NOW.timestamp())


def _file(customer_ref: str, reconcile_at: int | None) -> None:
    members.save_member(MemberState(customer_ref=customer_ref, reconcile_at=reconcile_at), NOW)


def test_shoppers_are_filed_under_many_keys_and_walked_bucket_by_bucket_most_overdue_first() -> None:
    overdue = {f"shopper-{n}": EPOCH - 60 * n for n in range(30)}  # shopper-29 is the most overdue
    for customer_ref, reconcile_at in overdue.items():
        _file(customer_ref, reconcile_at)
    _file("later", EPOCH + 3600)
    _file("settled", None)

    keys = Counter(r.reconcile_shard for r in members.MemberRecord.scan() if r.reconcile_shard)

    assert len(keys) > 10 and max(keys.values()) <= 5
    everyone = members.due_for_reconcile(EPOCH, 100)
    assert sorted(everyone) == sorted(overdue)  # neither `later` nor `settled`
    for first in members.reconcile_buckets():
        walk = members.due_for_reconcile(EPOCH, 100, first_bucket=first)
        steps = [(members.reconcile_bucket(ref) - first) % len(members.reconcile_buckets()) for ref in walk]
        assert steps == sorted(steps)  # bucket by bucket from `first`
        assert all(  # each bucket's most overdue first
            overdue[a] <= overdue[b]
            for a, b in pairwise(walk)
            if members.reconcile_bucket(a) == members.reconcile_bucket(b)
        )
    assert members.due_for_reconcile(EPOCH, 5, first_bucket=3) == members.due_for_reconcile(EPOCH, 100, 3)[:5]
