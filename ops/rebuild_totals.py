"""Recompute the donation totals from the append-only ledger, and optionally replace them.

    python -m ops.rebuild_totals --stage prod            # compare only: prints differences
    python -m ops.rebuild_totals --stage prod --write    # replace the totals with the recomputed ones

Run `--write` while no orders are being reported (the totals are replaced, not merged).
"""

from __future__ import annotations

import argparse
import sys


def recompute(write: bool = False) -> list[str]:
    """Differences between the running totals and the ledger (empty when they agree)."""
    from chalicelib.domain.donations import Balance, fold
    from chalicelib.store import ledger

    entries = list(ledger.scan_entries())
    totals = fold(entry for entry, _ in entries)
    members: dict[tuple[str, str], Balance] = {}
    for entry, customer_ref in entries:
        if customer_ref is not None and entry.kind != "disbursement":
            members.setdefault((customer_ref, entry.currency), Balance()).add(entry)
    for balance in members.values():
        balance.orders = 0
    expected = {("month", f"{p}#{c}#{k}"): b for (p, c, k), b in totals.monthly.items()}
    expected.update({("all", f"{c}#{k}"): b for (c, k), b in totals.all_time.items()})
    stored = {
        (item.scope, item.key): item
        for item in ledger.DonationTotalsRecord.scan()
        if item.scope in ("month", "all")
    }
    differences = []
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, Balance()), stored.get(key)
        got = (
            (int(have.pledged), int(have.reversed), int(have.disbursed), int(have.orders))
            if have
            else (0, 0, 0, 0)
        )
        if got != (want.pledged, want.reversed, want.disbursed, want.orders):
            differences.append(
                f"{key}: stored {got}, ledger {(want.pledged, want.reversed, want.disbursed, want.orders)}"
            )
    if write:
        ledger.replace_totals(totals.monthly, totals.all_time, members)
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", default="local")
    parser.add_argument("--write", action="store_true", help="replace the totals with the recomputed ones")
    args = parser.parse_args(argv)
    from ops.stage import use_stage

    use_stage(args.stage)
    differences = recompute(write=args.write)
    for line in differences:
        print(line)
    print(f"{len(differences)} difference(s){'; totals rebuilt' if args.write else ''}")
    return 1 if differences and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
