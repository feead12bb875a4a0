"""Print the donation report for a month range and write it as CSV (brand teams, finance).

    python -m ops.donations_report --from 2026-01 --to 2026-12 [--cause school-meals] [--currency usd]
                                   [--csv donations.csv] [--stage local|dev|prod]

`local` reads `make dev`'s DynamoDB (honouring DYNAMODB_PORT, see ops/stage.py); other stages read the
deployed tables with your AWS credentials. The first line (stderr) says which stage and endpoint.
"""

from __future__ import annotations

import argparse
import sys

from ops.stage import add_stage_arguments, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--from", dest="first", required=True, help="first month, YYYY-MM")
    parser.add_argument("--to", dest="last", required=True, help="last month, YYYY-MM")
    parser.add_argument("--cause")
    parser.add_argument("--currency")
    parser.add_argument("--csv", dest="csv_path", help="also write the rows to this CSV file")
    add_stage_arguments(parser, writes=False)
    args = parser.parse_args(argv)
    return run_command(args.stage, lambda _: _print_report(args))


def _print_report(args: argparse.Namespace) -> int:
    from chalicelib.domain.money import format_decimal
    from chalicelib.domain.reports import report_csv
    from chalicelib.services.reports import donation_report

    report = donation_report(args.first, args.last, args.cause, args.currency)
    print(
        f"{'period':<8} {'cause':<24} {'cur':<4} "
        + " ".join(f"{title:>12}" for title in ("pledged", "reversed", "net", "disbursed"))
    )
    for row in report.data:
        amounts = (row.pledged, row.reversed, row.net, row.disbursed)
        print(f"{row.period:<8} {row.cause_id:<24} {row.currency:<4} "
              + " ".join(f"{format_decimal(a, row.currency):>12}" for a in amounts))  # fmt: skip
    print("\nall time:")
    for total in report.totals:
        print(f"  {total.cause_id:<24} {total.currency:<4} net {format_decimal(total.net, total.currency)}, "
              f"disbursed {format_decimal(total.disbursed, total.currency)}, "
              f"outstanding {format_decimal(total.outstanding, total.currency)}")  # fmt: skip
    if args.csv_path:
        with open(args.csv_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(report_csv(report.data))
        print(f"\nwrote {len(report.data)} rows to {args.csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
