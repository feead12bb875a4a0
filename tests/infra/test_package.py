"""The deployment zip: small, compiled, and carrying only what runs on Lambda."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile

import pytest

from infra.package import MAX_BYTES, PackageReport

# flags word of a .pyc header (PEP 552): bit 0 = hash-based, bit 1 = check the source's hash on import.
HASH_BASED_UNCHECKED = 0b01


@pytest.fixture(scope="module")
def entries(lambda_package: PackageReport) -> dict[str, bytes]:
    with zipfile.ZipFile(lambda_package.path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_fits_in_eight_megabytes(lambda_package: PackageReport) -> None:
    assert 0 < lambda_package.size_bytes <= MAX_BYTES


def test_every_module_ships_the_hash_based_bytecode_of_its_own_source(entries: dict[str, bytes]) -> None:
    modules = [name for name in entries if name.endswith(".py")]
    assert "app.py" in modules and "chalicelib/api/eligibility.py" in modules
    tag = sys.implementation.cache_tag
    for module in modules:
        directory, _, filename = module.rpartition("/")
        pyc = f"{directory}/__pycache__/{filename[:-3]}.{tag}.pyc".lstrip("/")
        assert pyc in entries, f"{module} has no {pyc}"
        header = entries[pyc][:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, module
        assert int.from_bytes(header[4:8], "little") == HASH_BASED_UNCHECKED, module
        assert header[8:16] == importlib.util.source_hash(entries[module]), f"{pyc} is not of {module}"


def test_only_the_aws_service_models_the_code_calls_are_shipped(entries: dict[str, bytes]) -> None:
    services = {
        name.split("/")[2] for name in entries if name.startswith("botocore/data/") and name.count("/") > 2
    }
    assert services == {"dynamodb", "secretsmanager"}
    assert "botocore/data/endpoints.json" in entries and "botocore/data/_retry.json" in entries


def test_the_endpoint_table_keeps_every_partition_but_only_the_shipped_services(
    entries: dict[str, bytes],
) -> None:
    table = json.loads(entries["botocore/data/endpoints.json"])

    partitions = {partition["partition"]: partition for partition in table["partitions"]}
    assert {"aws", "aws-cn", "aws-us-gov"} <= partitions.keys()
    assert "eu-west-1" in partitions["aws"]["regions"]
    for partition in partitions.values():
        assert set(partition["services"]) <= {"dynamodb", "secretsmanager"}
    assert "us-east-1" in partitions["aws"]["services"]["dynamodb"]["endpoints"]


def test_no_tests_type_stubs_or_aiohttp_are_shipped(entries: dict[str, bytes]) -> None:
    top_level = {name.split("/")[0] for name in entries}
    assert "aiohttp" not in top_level and "tests" not in top_level
    assert not [name for name in entries if "/tests/" in name or name.endswith(".pyi")]
    assert not [name for name in entries if name.startswith("stripe/params/")]


def test_the_template_names_a_handler_for_the_api_the_hourly_job_and_webhook_delivery(
    lambda_package: PackageReport,
) -> None:
    assert lambda_package.handlers == {
        "APIHandler": "app.app",
        "ReconcileMembers": "chalicelib.api.admin.reconcile_members",
        "FanOutEvents": "chalicelib.api.event_functions.fan_out_events",
        "DeliverWebhooks": "chalicelib.api.event_functions.deliver_webhooks",
    }
