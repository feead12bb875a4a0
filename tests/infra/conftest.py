"""The deployment package, built once per test run by the same code as `make package`, and the CDK app
synthesized once around it (as `make synth` does)."""

from __future__ import annotations

import os

import pytest

from infra.package import PackageReport, build_package
from tests.infra.synthesized import Synthesized


@pytest.fixture(autouse=True)
def _fresh_state(fresh_state: None) -> None:
    """Every infra test starts from empty tables, an empty emulator and the real clock."""


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> PackageReport:
    return build_package(tmp_path_factory.mktemp("package") / "vip-rewards-x86_64.zip", "x86_64")


@pytest.fixture(scope="session")
def synthesized(lambda_package: PackageReport, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra.app import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build(["dev", "prod"], outdir=str(outdir), package=lambda_package.path)
    app.synth()
    return Synthesized(app, outdir)
