"""Print the memberships report: members per plan and status, MRR per currency, joins and cancellations.

    python -m ops.memberships_report [--from 2026-01] [--to 2026-12] [--json] [--stage local|dev|prod]

The months default to the twelve ending with the current one. `local` reads `make dev`'s DynamoDB
(honouring DYNAMODB_PORT, see ops/stage.py); other stages read the deployed tables with your AWS
credentials (one Scan of the members table). The first line (stderr) says which stage and endpoint.
"""

from __future__ import annotations

import argparse
import sys

from ops.stage import add_stage_arguments, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="first", help="first month, YYYY-MM")
    parser.add_argument("--to", dest="last", help="last month, YYYY-MM")
    parser.add_argument("--json", action="store_true", help="print the report as the API returns it")
    add_stage_arguments(parser, writes=False)
    args = parser.parse_args(argv)
    return run_command(args.stage, lambda _: _print_report(args))


def _print_report(args: argparse.Namespace) -> int:
    import msgspec

    from chalicelib.services.membership_report import build_membership_report

    report = build_membership_report(args.first, args.last)
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(report).decode()))
        return 0
    print(f"{'plan':<24} {'status':<20} {'members':>8} {'perks':>8}")
    for row in report.members:
        print(f"{row.plan_id or '-':<24} {row.status:<20} {row.members:>8} {row.perks_active:>8}")
    print("\nMRR:")
    for revenue in report.mrr:
        print(f"  {revenue.currency:<4} {revenue.mrr_decimal:>12}  ({revenue.paying_members} paying)")
    print(f"\n{'month':<8} {'joins':>8} {'cancellations':>14}")
    for month in report.months:
        print(f"{month.period:<8} {month.joins:>8} {month.cancellations:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
