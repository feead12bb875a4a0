"""Recompute the donation totals from the append-only ledger, replace them, or move an earlier layout.

    python -m ops.rebuild_totals --stage prod             # compare only: prints differences
    python -m ops.rebuild_totals --stage prod --write     # replace the totals (asks first; --yes skips)
    python -m ops.rebuild_totals --stage prod --migrate   # move items of an earlier key layout into this one

The comparison is per month × cause × currency, per cause × currency and per shopper × currency, whatever
shard holds each part, so it holds across a change of `TOTALS_SHARDS`. Run `--write` while no orders are
being reported (the totals are replaced, not merged). `--migrate` is safe while orders flow: it moves the
unsharded totals (`month`, `all`) onto the sharded layout one transaction per item, re-keys disbursements
listed under the old constant key, splits each shopper's per-currency totals into per-cause items
(`currency#cause`, from the shopper's ledger entries), and files shoppers of the old single reconcile
partition (`due`) under their bucket, and copies the member flag and savings of orders recorded before
they were attributes of the order record out of its recorded answer. Running it again moves nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ops.stage import Target, add_stage_arguments, run_command

if TYPE_CHECKING:
    from chalicelib.domain.donations import Balance


def _figures(balance: Balance) -> tuple[int, int, int, int]:
    return balance.pledged, balance.reversed, balance.disbursed, balance.orders


def recompute(write: bool = False) -> list[str]:
    """Differences between the running totals and the ledger (empty when they agree)."""
    from chalicelib.domain.donations import Balance
    from ops import totals_layout as layout

    expected = layout.recomputed_totals()
    items = layout.stored_totals()
    want, have = layout.logical_totals(expected), layout.logical_totals(items)
    # A shopper still holding an item of the layout before impact per cause compares per currency.
    legacy = {scope for scope, key in items if layout.is_legacy_member_key(scope, key)}
    if legacy:
        want, have = layout.per_currency(want, legacy), layout.per_currency(have, legacy)
    differences = []
    for key in sorted(set(want) | set(have)):
        stored, recomputed = _figures(have.get(key, Balance())), _figures(want.get(key, Balance()))
        if stored != recomputed:
            differences.append(f"{key}: stored {stored}, ledger {recomputed}")
    if write:
        layout.replace_totals(expected)
    return differences


def migrate() -> dict[str, int]:
    """Move every item written in an earlier key layout into the current one; counts per kind."""
    from ops import totals_layout as layout

    return {
        "totals items": layout.move_legacy_totals(),
        "member totals items": layout.move_legacy_member_totals(),
        "disbursement listing keys": layout.move_legacy_listing_keys(),
        "reconcile index keys": layout.move_legacy_reconcile_keys(),
        "order records' facts": layout.move_order_facts(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_stage_arguments(parser, writes=True)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="replace the totals with the recomputed ones")
    action.add_argument("--migrate", action="store_true", help="move items of an earlier key layout")
    args = parser.parse_args(argv)

    def rebuild(_: Target) -> int:
        if args.migrate:
            for kind, count in migrate().items():
                print(f"moved {count} {kind}")
        differences = recompute(write=args.write)
        for line in differences:
            print(line)
        print(f"{len(differences)} difference(s){'; totals rebuilt' if args.write else ''}")
        return 1 if differences and not args.write else 0

    writes = None
    if args.write or args.migrate:
        writes = "replace the donation totals" if args.write else "move totals and keys to the sharded layout"
    return run_command(args.stage, rebuild, writes=writes, yes=args.yes)


if __name__ == "__main__":
    sys.exit(main())
