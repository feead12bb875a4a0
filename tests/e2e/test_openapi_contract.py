"""The API against its own OpenAPI document, over real HTTP on the `make dev` stack.

A client generated from the document (openapi-python-client) works against the API, the CSV report included.
Schemathesis generates requests from `GET /v1/openapi.json` (the declared examples first, then valid and
invalid data), sends each with the storefront key and with the brand key, and runs every check on the
answers: no server error, only documented statuses, content types and headers, bodies that match their
schemas, invalid input refused, valid input accepted, authentication enforced, unsupported methods refused.
"""

from __future__ import annotations

import http.client
import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
from schemathesis import Case

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


# Rules no JSON Schema can state, per operation: what they compare (`from` after `to`, a refund over its
# order), what must exist first (a plan, a cause, a disbursement to start after), a shopper's state, or
# Stripe's signature. Data valid by the schema may break only these; the service answers 400 with this
# `code` and a `param` matching the pattern. Any other 400 to schema-valid data is a disagreement
# between the document and the service, and fails.
UNSTATEABLE_RULES: dict[str, dict[str, str]] = {
    "POST /v1/eligibility": {"invalid_field": r"items\[\d+\]\.launch_at"},  # one sku, two launch times
    # A referral code must be one this service issued, active, not the shopper's own, allowed by Stripe.
    "POST /v1/members/{customer_ref}/checkout": {
        "unknown_plan": "plan_id",
        "unknown_cause": "cause_id",
        "invalid_referral_code": "referral_code",
        "own_referral_code": "referral_code",
        "referral_code_not_allowed": "referral_code",
    },
    "POST /v1/gifts/checkout": {"unknown_plan": "plan_id"},
    "POST /v1/members/{customer_ref}/plan": {"unknown_plan": "plan_id", "currency_mismatch": "plan_id"},
    "PUT /v1/members/{customer_ref}/cause": {"unknown_cause": "cause_id"},
    # A pause ends in the future (measured against the server's clock).
    "POST /v1/members/{customer_ref}/pause": {"invalid_until": "until"},
    # Savings the shopper's plan cannot give; a fact dated before 2000 or after tomorrow.
    "POST /v1/orders": {
        "savings_without_membership": "savings",
        "savings_exceed_plan": r"savings(\.\w+)?",
        "time_out_of_range": "placed_at",
    },
    "POST /v1/orders/{order_id}/refunds": {"refund_exceeds_order": "amount"},
    "POST /v1/disbursements": {"unknown_cause": "cause_id", "time_out_of_range": "paid_at"},
    "GET /v1/disbursements": {"invalid_field": "starting_after"},
    # `from` after `to`; over 120 months.
    "GET /v1/reports/donations": {"invalid_field": "from", "invalid_month_range": "from|to"},
    "GET /v1/reports/memberships": {"invalid_field": "from|to", "invalid_month_range": "from|to"},
    "GET /v1/reports/program": {"invalid_field": "from|to", "invalid_month_range": "from|to"},
    "GET /v1/reports/cohorts": {"invalid_field": "from|to", "invalid_month_range": "from|to"},
    "GET /v1/reports/referrals": {"invalid_field": "from|to", "invalid_month_range": "from|to"},
    "POST /v1/webhooks/stripe": {"invalid_signature": "Stripe-Signature"},
    # Outbound events: a URL's resolved class, the event catalog, cursors and events that must exist.
    "POST /v1/webhook_endpoints": {
        "invalid_url": "url",
        "unknown_event_type": "events",
        "invalid_field": "url",
    },
    "PATCH /v1/webhook_endpoints/{id}": {"invalid_url": "url", "unknown_event_type": "events"},
    "GET /v1/webhook_endpoints": {"invalid_field": "starting_after"},
    "POST /v1/webhook_endpoints/{id}/replay": {"invalid_field": "event_ids|since|until"},
    "GET /v1/events": {"unknown_event_type": "type", "invalid_field": "starting_after|since"},
    # A cause's giving record: `from` after `to`, over 120 months.
    "GET /v1/causes/{cause_id}/giving": {"invalid_month_range": "from|to"},
}
# What schema-valid data may answer (schemathesis' default, without 400): a brand-only operation with the
# storefront key, an id that does not exist, a conflict with what the fuzzer wrote before. 400 only where
# the operation has rules above, and then only for them: `valid_data_is_refused_only_by_unstateable_rules`
# judges this in place of schemathesis' own `positive_data_acceptance`, which also holds a few generated
# bodies to be valid that the document refuses (a map key outside its `propertyNames` enum).
ACCEPTED = (200, 201, 202, 204, 401, 403, 404, 409, 429)
CONFIG = schemathesis.Config.from_dict(
    {
        # No example database: it would write under the project, and `chalice local` restarts on file changes.
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "database": "none"},
        # Undeclared methods must answer 405. Only those API Gateway forwards to the function are tried:
        # TRACE and QUERY never reach it (and `chalice local`, Python's http.server, answers them 501 itself).
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch", "options"]}},
        "checks": {"positive_data_acceptance": {"enabled": False}},
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


def _body_is_valid(case: Case) -> bool:
    """The generated body is valid by the document's own schema for it (or there is none)."""
    operation = _document()["paths"][case.operation.path][case.method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None or not isinstance(case.body, (dict, list, str, int, float, bool, type(None))):
        return True
    schema = {**content["schema"], "components": _document()["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(case.body)


def valid_data_is_refused_only_by_unstateable_rules(ctx: Any, response: Any, case: Case) -> bool | None:
    """Schema-valid data is accepted, or refused with one of the operation's rules JSON Schema cannot state."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code >= 500:
        return None  # server errors are `not_a_server_error`'s to report
    if response.status_code in ACCEPTED or not _body_is_valid(case):
        return True
    assert response.status_code == 400, (
        f"{case.operation.label} answered schema-valid data {response.status_code}"
    )
    error = response.json()["error"]
    param = UNSTATEABLE_RULES.get(case.operation.label, {}).get(error["code"])
    assert param is not None and re.fullmatch(param, error["param"] or ""), (
        f"{case.operation.label} refused schema-valid data with a rule the document could state: {error}"
    )
    return True


def test_the_unstateable_rules_name_operations_of_the_document() -> None:
    paths = _document()["paths"]
    assert set(UNSTATEABLE_RULES) <= {f"{method.upper()} {path}" for path in paths for method in paths[path]}


@schema.parametrize()
def test_every_answer_to_generated_requests_is_documented_and_never_a_server_error(
    case: Case, fuzzed_stack: Stack
) -> None:
    for key in KEYS:
        case.call_and_validate(
            base_url=fuzzed_stack.api,
            headers={"Authorization": f"Bearer {key}"},
            additional_checks=[valid_data_is_refused_only_by_unstateable_rules],
            timeout=30,
        )


def _operations() -> list[tuple[str, str]]:
    """Every operation of the document: (method, path template)."""
    paths = _document()["paths"]
    return [
        (method.upper(), path)
        for path in paths
        for method in paths[path]
        if method in ("get", "put", "post", "patch", "delete")
    ]


def _send(stack: Stack, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> Any:
    """One raw HTTP request: headers go out exactly as listed, repeats included."""
    host, port = stack.api.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest(method, path)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(("method", "template"), _operations())
def test_a_body_nested_a_thousand_levels_is_never_a_server_error(
    fuzzed_stack: Stack, method: str, template: str
) -> None:
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    operation = _document()["paths"][template][method.lower()]
    path = re.sub(r"{\w+}", "x-1", template)
    # The key that passes the route's authentication, so the body is what gets judged.
    allowed = _shopper_token(fuzzed_stack) if template.startswith("/v1/shopper/") else "local-brand-key"
    for key in (*KEYS, allowed, None):
        headers = [("Content-Type", "application/json")]
        if key is not None:
            headers.append(("Authorization", f"Bearer {key}"))
        status, _, body = _send(fuzzed_stack, method, path, headers, deep)

        assert status < 500, (method, path, body)
        if "requestBody" not in operation:
            continue  # the body is not read (a GET's 400 is about its query)
        if status == 400:
            # Refused before any parser recursed: for its depth, or (the webhook) before reading it at all.
            code = json.loads(body)["error"]["code"]
            assert code == ("invalid_signature" if path == "/v1/webhooks/stripe" else "body_too_deep")
        elif key == allowed:
            raise AssertionError(f"{method} {path} answered a body too deep {status}: {body!r}")


def _shopper_token(stack: Stack) -> str:
    """A shopper token for `x-1`, minted as the brand's server mints it."""
    status, _, body = _send(
        stack, "POST", "/v1/members/x-1/session",
        [("Content-Type", "application/json"), ("Authorization", "Bearer local-storefront-key")], b"{}",
    )  # fmt: skip
    assert status == 201, body
    return str(json.loads(body)["token"])


@pytest.mark.parametrize(("method", "template"), _operations())
@pytest.mark.parametrize("header", ["Authorization", "Idempotency-Key", "Stripe-Signature"])
def test_a_repeated_credential_header_is_a_400_naming_it_on_every_operation(
    fuzzed_stack: Stack, method: str, template: str, header: str
) -> None:
    path = re.sub(r"{\w+}", "x-1", template)
    values = {"Authorization": ("Bearer local-brand-key", "Bearer local-storefront-key"),
              "Idempotency-Key": ("k-1", "k-2"), "Stripe-Signature": ("t=1,v1=00", "t=2,v1=00")}[header]  # fmt: skip
    headers = [("Authorization", "Bearer local-brand-key"), ("Content-Type", "application/json")]
    headers = [h for h in headers if h[0] != header] + [(header, values[0]), (header, values[1])]
    status, answer_headers, body = _send(
        fuzzed_stack, method, path, headers, b"{}" if method != "GET" else b""
    )

    assert status == 400, (method, path, body)
    assert json.loads(body)["error"]["code"] == "repeated_header"
    assert json.loads(body)["error"]["param"] == header
    assert answer_headers.get("X-Request-Id")


def test_an_unknown_route_on_the_local_stack_carries_a_request_id(fuzzed_stack: Stack) -> None:
    status, headers, body = _send(fuzzed_stack, "GET", "/v1/no/such/route", [])

    assert status == 404 and json.loads(body)["error"]["code"] == "route_not_found"
    assert headers.get("X-Request-Id")
