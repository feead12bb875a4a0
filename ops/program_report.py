"""Print the program report (or, with --cohorts, the cohort report) for a month range and write it as CSV.

    python -m ops.program_report --from 2026-01 --to 2026-12 [--currency usd | --cohorts]
                                 [--csv program.csv] [--stage local|dev|prod]

`local` reads `make dev`'s DynamoDB (honouring DYNAMODB_PORT, see ops/stage.py); other stages read the
deployed tables with your AWS credentials. The first line (stderr) says which stage and endpoint.
Figures and their definitions: docs/program.md.
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
    parser.add_argument("--currency")
    parser.add_argument("--cohorts", action="store_true", help="the cohorts of --from..--to instead")
    parser.add_argument("--csv", dest="csv_path", help="also write the rows to this CSV file")
    add_stage_arguments(parser, writes=False)
    args = parser.parse_args(argv)
    return run_command(args.stage, lambda _: _print_cohorts(args) if args.cohorts else _print_report(args))


def _print_report(args: argparse.Namespace) -> int:
    from chalicelib.domain.money import format_decimal
    from chalicelib.domain.program import program_csv
    from chalicelib.services.program_report import build_program_report

    report = build_program_report(args.first, args.last, args.currency)
    titles = ("members", "non-mem.", "m. AOV", "n. AOV", "AOV lift", "fees", "perks", "donations", "net")
    print(f"{'period':<17} {'cur':<4} " + " ".join(f"{title:>10}" for title in titles))
    for row in [*report.data, *report.totals]:
        money = (row.members.aov or 0, row.non_members.aov or 0)
        costs = (row.fees, row.member_discount + row.shipping_waived, row.donations, row.program_net)
        cells = [
            str(row.members.customers),
            str(row.non_members.customers),
            *(format_decimal(amount, row.currency) for amount in money),
            row.lift.aov or "-",
            *(format_decimal(amount, row.currency) for amount in costs),
        ]
        print(f"{row.period:<17} {row.currency:<4} " + " ".join(f"{cell:>10}" for cell in cells))
    return _write_csv(args.csv_path, program_csv(report), len(report.data) + len(report.totals))


def _print_cohorts(args: argparse.Namespace) -> int:
    from chalicelib.domain.cohorts import cohorts_csv
    from chalicelib.domain.money import format_decimal
    from chalicelib.services.cohort_report import build_cohort_report

    report = build_cohort_report(args.first, args.last)
    titles = f"{'cohort':<8} {'plan':<16} {'cur':<4} {'joined':>7} {'fees':>12} {'revenue':>12}"
    print(f"{titles}  active at each month end")
    for row in report.data:
        currency = row.currency or "-"
        fees, revenue = (
            format_decimal(n, row.currency) if row.currency else str(n) for n in (row.fees, row.revenue)
        )
        active = " ".join(str(n) for n in row.active)
        cells = f"{row.cohort:<8} {row.plan_id:<16} {currency:<4} {row.joined:>7} {fees:>12} {revenue:>12}"
        print(f"{cells}  {active}")
    return _write_csv(args.csv_path, cohorts_csv(report), len(report.data))


def _write_csv(path: str | None, text: str, rows: int) -> int:
    if path:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        print(f"\nwrote {rows} rows to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
