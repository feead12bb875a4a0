"""What each make target installs: `make dev` only the local stack, everything pinned exactly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLING = {
    "aws-cdk-lib",
    "constructs",
    "playwright",
    "cfn-lint",
    "checkov",
    "schemathesis",
    "pytest",
    "ruff",
    "mypy",
}


def requirements(name: str) -> dict[str, str]:
    """Package → pinned version, following `-r` includes."""
    found: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found |= requirements(line[3:].strip())
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z,]+\])?==([0-9][0-9A-Za-z.]*)", line)
        assert match, f"{name}: {line!r} is not pinned with =="
        found[match.group(1).lower()] = match.group(3)
    return found


def test_make_dev_installs_no_infra_browser_or_test_tooling() -> None:
    assert set(requirements("requirements-dev.txt")) & TOOLING == set()


def test_make_test_installs_the_local_stack_the_cdk_and_the_template_linter() -> None:
    test = requirements("requirements-test.txt")
    assert set(requirements("requirements-dev.txt")) <= set(test)
    assert {"aws-cdk-lib", "cfn-lint", "pytest", "playwright"} <= set(test)


@pytest.mark.parametrize(
    "name", ["requirements.txt", "requirements-dev.txt", "requirements-infra.txt", "requirements-test.txt",
             "requirements-checkov.txt"],
)  # fmt: skip
def test_every_dependency_is_pinned_exactly(name: str) -> None:
    assert requirements(name)


def test_the_lambda_package_needs_no_tooling_and_no_aiohttp() -> None:
    assert set(requirements("requirements.txt")) & (TOOLING | {"aiohttp", "chalice", "moto"}) == set()
