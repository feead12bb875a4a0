"""The storefront kit's weight on a shopper's page: gzip of `vip.js` and of every module it imports.

`make test` fails over the 15 KB budget (tests/integration/shopper/test_kit.py); `make bench` prints
the figure beside the loyalty scripts storefronts complain about (a third-party lab's figures, Nov 2026).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent / "chalicelib" / "kit"
BUDGET_BYTES = 15 * 1024
# Published JavaScript sizes of loyalty apps on shoppers' pages (kilobytes, a third-party lab's figures).
ANCHORS_KB = {"Smile": 105, "LoyaltyLion": 113, "Yotpo (low end)": 285}
_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]""", re.M
)


def modules(entry: str = "vip.js") -> list[Path]:
    """`entry` and every module it imports, transitively (relative imports only: no dependency)."""
    found: list[Path] = []
    pending = [KIT / entry]
    while pending:
        module = pending.pop()
        if module in found:
            continue
        found.append(module)
        for match in _IMPORT.finditer(module.read_text(encoding="utf-8")):
            target = match.group(1) or match.group(2)
            if not target.startswith("."):
                raise ValueError(f"{module.name} imports {target!r}: the kit takes no dependencies")
            pending.append((module.parent / target).resolve())
    return found


def gzipped_bytes(entry: str = "vip.js") -> int:
    """What the shopper downloads, each module gzipped on its own (as a server compresses each response)."""
    return sum(len(gzip.compress(m.read_bytes(), compresslevel=9, mtime=0)) for m in modules(entry))


def report() -> str:
    size = gzipped_bytes()
    anchors = ", ".join(f"{name} ~{kb} KB" for name, kb in ANCHORS_KB.items())
    return (
        f"storefront kit: {size / 1024:.1f} KB gzipped ({size} bytes, {len(modules())} module(s)) against a "
        f"{BUDGET_BYTES // 1024} KB budget; loyalty scripts for comparison: {anchors}"
    )


if __name__ == "__main__":
    print(report())
