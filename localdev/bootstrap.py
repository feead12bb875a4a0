"""Create the local tables and seed demo data (run by `make dev` with the local environment)."""

from __future__ import annotations

from localdev.seed import seed
from localdev.tables import create_tables


def main() -> None:
    create_tables()
    seed()
    print("[dev] tables created, demo plans, causes and keys seeded", flush=True)


if __name__ == "__main__":
    main()
