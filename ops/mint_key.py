"""Mint an API key against a stage — the way to get a deployed stage's first brand key.

    python -m ops.mint_key --stage prod --role brand --name "Brand team" [--yes]

Uses your AWS credentials (local: `make dev`'s DynamoDB, see ops/stage.py); on a deployed stage it asks
before writing unless `--yes`. The secret is printed once and stored nowhere (only its hash is); keep it
in a password manager.
"""

from __future__ import annotations

import argparse
import sys

from ops.stage import Target, add_stage_arguments, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_stage_arguments(parser, writes=True)
    parser.add_argument("--role", choices=["storefront", "brand"], required=True)
    parser.add_argument("--name", required=True, help="who uses the key, e.g. 'Brand team'")
    args = parser.parse_args(argv)

    def mint(_: Target) -> int:
        from chalicelib.services import api_keys

        minted = api_keys.mint_key(args.role, args.name)
        print(f"key_id: {minted.key_id}\nrole:   {minted.role}\nsecret: {minted.secret}")
        print("The secret is shown only now.", file=sys.stderr)
        return 0

    return run_command(args.stage, mint, writes=f"mint a {args.role} API key", yes=args.yes)


if __name__ == "__main__":
    sys.exit(main())
