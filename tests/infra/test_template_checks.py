"""cfn-lint and checkov on the synthesized templates: nothing found, and every suppression explained."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.infra.synthesized import Synthesized

ROOT = Path(__file__).resolve().parents[2]
# Installed by `make test` in its own virtualenv (requirements-checkov.txt).
CHECKOV = ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"


def test_cfn_lint_finds_nothing_in_either_template(synthesized: Synthesized) -> None:
    files = synthesized.template_files()
    assert len(files) == 2
    linted = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_checkov_finds_nothing_that_is_not_suppressed_with_a_reason(synthesized: Synthesized) -> None:
    if not CHECKOV.exists():
        pytest.fail(
            f"checkov is not installed at {CHECKOV}: `make test` installs it (requirements-checkov.txt)"
        )
    scanned = subprocess.run(
        [str(CHECKOV), "--directory", str(synthesized.outdir), "--framework", "cloudformation",
         "--output", "json", "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports = json.loads(scanned.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['file_path']}: {check['resource']} {check['check_id']} {check['check_name']}"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert sum(report["summary"]["passed"] for report in reports) > 0
    assert all(report["summary"]["parsing_errors"] == 0 for report in reports)


def test_every_suppressed_check_carries_a_written_reason(synthesized: Synthesized) -> None:
    suppressions: list[dict[str, Any]] = []
    for file in synthesized.template_files():
        for resource in json.loads(file.read_text())["Resources"].values():
            suppressions += resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    assert suppressions
    for suppression in suppressions:
        assert suppression["id"].startswith("CKV")
        assert len(suppression["comment"].split()) >= 8, suppression
