"""The deployment package, built once per test run by the same code as `make package`."""

from __future__ import annotations

import pytest

from infra.package import PackageReport, build_package


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> PackageReport:
    return build_package(tmp_path_factory.mktemp("package") / "vip-rewards-x86_64.zip", "x86_64")
