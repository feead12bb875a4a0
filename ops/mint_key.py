"""Mint an API key against a stage — the way to get a deployed stage's first brand key.

    python -m ops.mint_key --stage prod --role brand --name "Brand team"

Uses your AWS credentials (local: `make dev`'s DynamoDB). The secret is printed once and stored
nowhere (only its hash is); keep it in a password manager.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", default="local")
    parser.add_argument("--role", choices=["storefront", "brand"], required=True)
    parser.add_argument("--name", required=True, help="who uses the key, e.g. 'Brand team'")
    args = parser.parse_args(argv)
    from ops.stage import use_stage

    use_stage(args.stage)
    from chalicelib.services import api_keys

    minted = api_keys.mint_key(args.role, args.name)
    print(f"key_id: {minted.key_id}\nrole:   {minted.role}\nsecret: {minted.secret}")
    print("The secret is shown only now.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
