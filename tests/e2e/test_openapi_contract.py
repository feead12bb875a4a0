"""The API against its own OpenAPI document, over real HTTP on the `make dev` stack.

A client generated from the document (openapi-python-client) works against the API, the CSV report included.
Schemathesis generates requests from `GET /v1/openapi.json` (the declared examples first, then valid and
invalid data), sends each with the storefront key and with the brand key, and runs every check on the
answers: no server error, only documented statuses, content types and headers, bodies that match their
schemas, invalid input refused, valid input accepted, authentication enforced, unsupported methods refused.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from tests.e2e.conftest import Stack, dev_stack

KEYS = ("local-storefront-key", "local-brand-key")
EXAMPLES_PER_OPERATION = 12


@pytest.fixture(scope="module")
def fuzzed_stack() -> Iterator[Stack]:
    # A stack of its own: the fuzzer writes plans, causes and keys that other end-to-end tests must not see.
    with dev_stack() as running:
        yield running


def _document() -> dict[str, Any]:
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.openapi import document

    return document()


# What the fuzzer may expect of a request valid by the schema (schemathesis' default, plus 400): such data
# may still break a rule no JSON Schema states (`from` after `to`, a plan or cause that does not exist, a
# currency Stripe does not have, a webhook without Stripe's signature), which the contract answers 400
# naming the field. Every other check stands as it is.
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
CONFIG = schemathesis.Config.from_dict(
    {
        # No example database: it would write under the project, and `chalice local` restarts on file changes.
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
        # Undeclared methods must answer 405. Only those API Gateway forwards to the function are tried:
        # TRACE and QUERY never reach it (and `chalice local`, Python's http.server, answers them 501 itself).
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch", "options"]}},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    }
)
# The document the app serves (the same function answers `GET /v1/openapi.json`).
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


def test_a_client_generated_from_the_document_works_against_the_api(
    fuzzed_stack: Stack, tmp_path: Path
) -> None:
    (tmp_path / "openapi.json").write_text(json.dumps(_document()))
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")
    subprocess.run(
        [Path(sys.executable).parent / "openapi-python-client", "generate", "--path", "openapi.json",
         "--output-path", "vip_client", "--meta", "none", "--config", "config.yaml"],
        cwd=tmp_path, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    sys.path.insert(0, str(tmp_path))
    try:
        client = importlib.import_module("vip_client")
        catalog = importlib.import_module("vip_client.api.catalog.get_v1_plans")
        cause = importlib.import_module("vip_client.api.catalog.put_v1_causes_cause_id")
        report = importlib.import_module("vip_client.api.reports.get_v1_reports_donations")
        models = importlib.import_module("vip_client.models")
    finally:
        sys.path.remove(str(tmp_path))
    public = client.Client(base_url=fuzzed_stack.api)
    brand = client.AuthenticatedClient(base_url=fuzzed_stack.api, token="local-brand-key")
    month = datetime.now(UTC).strftime("%Y-%m")

    plans = catalog.sync(client=public)
    saved = cause.sync("clean-air", client=brand, body=models.CauseTerms(name="Clean Air"))
    csv_report = report.sync(
        client=brand, from_=month, to=month, format_=models.GetV1ReportsDonationsFormat.CSV
    )
    denied = report.sync(client=client.AuthenticatedClient(base_url=fuzzed_stack.api, token="local-storefront-key"),
                         from_=month, to=month)  # fmt: skip

    assert {"vip-monthly", "vip-yearly"} <= {plan.plan_id for plan in plans.data}
    assert (saved.cause_id, saved.name) == ("clean-air", "Clean Air")
    assert csv_report.startswith("period,cause_id,currency,")
    assert denied.error.type_ == "permission"


@schema.parametrize()
def test_every_answer_to_generated_requests_is_documented_and_never_a_server_error(
    case: Any, fuzzed_stack: Stack
) -> None:
    for key in KEYS:
        case.call_and_validate(
            base_url=fuzzed_stack.api, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
