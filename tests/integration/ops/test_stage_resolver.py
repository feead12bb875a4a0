"""Every operator command acts where one resolver says, says so first, and refuses clearly.

The commands run as the operator runs them: fresh processes (`python -m ops...`), here against a
`make dev`-like DynamoDB on its own port (DYNAMODB_PORT), next to the tests' own DynamoDB.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ops import stage

ROOT = Path(__file__).resolve().parents[3]
COMMANDS = {
    "mint_key": ["--role", "brand", "--name", "Ops"],
    "donations_report": ["--from", "2026-01", "--to", "2026-12"],
    "memberships_report": ["--from", "2026-01", "--to", "2026-12"],
    "rebuild_totals": [],
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(**extra: str) -> dict[str, str]:
    """A shell like an operator's: no test settings, nothing pointing at the tests' own DynamoDB."""
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
                "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", **extra})  # fmt: skip
    return env


def _run(command: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"ops.{command}", *args], cwd=ROOT, env=_environment(**env), input=stdin,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def dev_stack() -> Iterator[str]:
    """A second DynamoDB, in its own process and on its own port, with `make dev`'s tables; yields the port.

    Its own process: moto's state is per process, and the tests' DynamoDB is reset before each test.
    """
    port = str(_free_port())
    server = subprocess.Popen([sys.executable, "-m", "localdev.dynamodb_server", "-p", port], cwd=ROOT,
                              env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        created = subprocess.run(
            [sys.executable, "-c", _CREATE_TABLES], cwd=ROOT, capture_output=True, text=True, timeout=120,
            env=_environment(DYNAMODB_HOST=f"http://127.0.0.1:{port}", TABLE_PREFIX="vip-local",
                             AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1"),
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


# Waits for the server to listen, then creates the tables.
_CREATE_TABLES = """
import socket, time
from urllib.parse import urlsplit
import os
url = urlsplit(os.environ["DYNAMODB_HOST"])
for _ in range(200):
    try:
        socket.create_connection((url.hostname, url.port), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.05)
from localdev.tables import create_tables
create_tables()
"""


def _api_keys_in(port: str) -> int:
    client: Any = boto3.client(
        "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    count: int = client.scan(TableName="vip-local-api-keys", Select="COUNT")["Count"]
    return count


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_acts_on_the_dynamodb_port_it_is_given_and_says_so_first(
    dev_stack: str, command: str
) -> None:
    result = _run(command, "--stage", "local", *COMMANDS[command], DYNAMODB_PORT=dev_stack)

    assert result.returncode == 0, result.stderr
    first_line = result.stderr.splitlines()[0]
    assert (
        first_line
        == f"stage local: DynamoDB http://127.0.0.1:{dev_stack}, tables vip-local-*, region us-east-1"
    )


def test_a_key_minted_locally_lands_in_the_stack_on_that_port(dev_stack: str) -> None:
    before = _api_keys_in(dev_stack)

    result = _run(
        "mint_key", "--stage", "local", "--role", "storefront", "--name", "Shop", DYNAMODB_PORT=dev_stack
    )

    assert result.returncode == 0, result.stderr
    assert _api_keys_in(dev_stack) == before + 1


def test_an_unknown_stage_is_refused_by_name() -> None:
    result = _run("donations_report", "--stage", "staging", "--from", "2026-01", "--to", "2026-02")

    assert result.returncode == 2
    assert result.stderr.strip() == "error: Unknown stage 'staging': use one of local, dev, prod."


def test_a_deployed_stage_without_aws_credentials_is_refused() -> None:
    result = _run("memberships_report", "--stage", "prod")

    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(
        "stage prod: DynamoDB https://dynamodb.us-east-1.amazonaws.com"
    )
    assert result.stderr.splitlines()[1].startswith("error: No AWS credentials for stage prod")


def test_an_unreachable_endpoint_is_refused_with_the_port_it_tried() -> None:
    closed = str(_free_port())

    result = _run("rebuild_totals", "--stage", "local", DYNAMODB_PORT=closed)

    assert result.returncode == 2
    assert result.stderr.splitlines()[1].startswith(
        f"error: Cannot reach DynamoDB at http://127.0.0.1:{closed}"
    )


def test_writing_to_a_deployed_stage_needs_the_stage_name_typed_or_yes() -> None:
    result = _run("mint_key", "--stage", "dev", "--role", "brand", "--name", "Ops", stdin="y\n",
                  AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="example")  # fmt: skip

    assert result.returncode == 1
    assert "This will mint a brand API key in dev (vip-dev-*, us-east-1)" in result.stdout
    assert result.stderr.splitlines()[-1] == "error: Not confirmed; nothing was changed."


def test_a_shell_left_over_from_make_dev_cannot_redirect_a_deployed_stage() -> None:
    target = stage.resolve("prod", {"DYNAMODB_HOST": "http://127.0.0.1:8001", "TABLE_PREFIX": "vip-local",
                                    "AWS_REGION": "eu-west-1"})  # fmt: skip

    assert (target.endpoint, target.table_prefix, target.region) == (None, "vip-prod", "eu-west-1")


def test_local_honours_a_full_dynamodb_host_like_make_dev() -> None:
    target = stage.resolve("local", {"DYNAMODB_HOST": "http://127.0.0.1:18001", "DYNAMODB_PORT": "9"})

    assert target.endpoint == "http://127.0.0.1:18001"


def test_the_report_json_stays_clean_on_stdout(dev_stack: str) -> None:
    result = _run("memberships_report", "--stage", "local", "--json", DYNAMODB_PORT=dev_stack)

    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) >= {"members", "mrr"}
