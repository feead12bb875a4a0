from __future__ import annotations

from collections import Counter

from chalicelib.store.shards import shard_of


def test_a_key_always_lands_on_the_same_shard_in_every_process() -> None:
    # Pinned: totals written by one Lambda container are found by every other one, and after a deploy.
    assert [shard_of(f"pledge#order#o-{i}", 16) for i in range(8)] == [14, 8, 6, 8, 14, 11, 12, 1]


def test_ids_that_differ_only_in_their_last_characters_spread_evenly() -> None:
    counts = Counter(shard_of(f"pledge#order#o-{i}", 16) for i in range(16_000))
    assert set(counts) == set(range(16))
    assert max(counts.values()) < 1.1 * 1_000 and min(counts.values()) > 0.9 * 1_000


def test_one_shard_means_everything_on_shard_zero() -> None:
    assert {shard_of(f"k-{i}", 1) for i in range(100)} == {0}
