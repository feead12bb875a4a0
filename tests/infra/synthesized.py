"""The CDK app as `make synth` writes it: the app object (for assertions) and its output directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Synthesized:
    app: Any
    outdir: Path

    def stack(self, stage: str) -> Any:
        return self.app.node.find_child(f"VipRewards-{stage}")

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("*.template.json"))
