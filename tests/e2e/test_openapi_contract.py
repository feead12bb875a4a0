"""The API against its own OpenAPI document, over real HTTP on the `make dev` stack.

A client generated from the document (openapi-python-client) works against the API, the CSV report included.
Schemathesis generates requests from `GET /v1/openapi.json` (the declared examples first, then valid and
invalid data), sends each with the storefront key and with the brand key, and runs every check on the
answers: no server error, only documented statuses, content types and headers, bodies that match their
schemas, invalid input refused, valid input accepted, authentication enforced, unsupported methods refused.
The run also sends an operation's first cases of each phase once more, in turn with a single-use header
given twice or (where the operation takes a body) with the body nested 1,000 levels deep, and checks that too.
"""

from __future__ import annotations

import collections
import importlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import schemathesis
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation
from urllib3 import HTTPHeaderDict

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


# The first cases of each phase that reach their operation's route are also sent once more, as hostile
# variants of themselves (docs/api.md, "Strict input"), and the answer goes through the same checks as the
# case's own. The variants take turns over an operation's cases:
# - one of the headers that may appear only once given twice (Authorization, then Idempotency-Key, then
#   Stripe-Signature): 400 `repeated_header` naming it, whatever else the request holds, since that is the
#   first thing the service looks at;
# - where the operation takes a body, every other case: the case's body wrapped 1,000 levels deep (objects
#   and arrays in turn) with a credential the operation accepts, so the body is what gets judged: 400
#   `body_too_deep` (the Stripe webhook checks its signature before it reads a body).
# Cases that miss the route (a path parameter generated invalid, a method the path does not have) are not
# varied: another route, or none, answers them. The variants are explicit cases (no generation metadata),
# so the checks that judge generated data as positive or negative leave them to `_refused_with`.
REPEATABLE = ("Authorization", "Idempotency-Key", "Stripe-Signature")
DEPTH = 1000
REFUSED_BEFORE_THE_BODY = {"POST /v1/webhooks/stripe": "invalid_signature"}
# How many variants of each kind the run sent, per operation (a figure for whoever times the run).
SENT: collections.Counter[tuple[str, str]] = collections.Counter()
# Variants of the first cases of each phase (examples, coverage, fuzzing) of an operation only: the service
# refuses them before it reads anything else, so more cases add time and little else.
VARIANTS_PER_PHASE = 4
VARIED: collections.Counter[tuple[str, Any]] = collections.Counter()


class RepeatHeader(HTTPAdapter):
    """A transport that sends header `name` twice: its value repeated, or `value` twice if it has none.

    requests keeps headers in a dict; urllib3 sends each value of an `HTTPHeaderDict` on a line of its own.
    """

    def __init__(self, name: str, value: str) -> None:
        super().__init__()
        self.name, self.value = name, value

    def send(self, request: PreparedRequest, *args: Any, **kwargs: Any) -> Response:
        value = request.headers.get(self.name, self.value)
        headers = HTTPHeaderDict({k: v for k, v in request.headers.items() if k.lower() != self.name.lower()})
        headers.add(self.name, value)
        headers.add(self.name, value)
        request.headers = headers  # type: ignore[assignment]
        return super().send(request, *args, **kwargs)


def _refused_with(code: str, param: str | None) -> Any:
    """A check: the answer is 400 in the contract's error shape with `code` (and `param`), with a request id."""

    def refused(ctx: Any, response: Any, case: Case) -> bool:
        assert response.status_code == 400, (
            f"{case.operation.label} answered {response.status_code}, not 400 `{code}`: {response.text[:300]}"
        )
        error = response.json()["error"]
        assert (error["code"], error["param"] if param else None) == (code, param), error
        assert any(name.lower() == "x-request-id" for name in response.headers), "no X-Request-Id"
        return True

    refused.__name__ = f"refused_with_{code}"
    return refused


def _variant(case: Case, **changes: Any) -> Case:
    """The case as sent, with `changes`; an explicit case, without the generated one's metadata."""
    fields = {"method": case.method, "path_parameters": case.path_parameters, "headers": dict(case.headers),
              "cookies": case.cookies, "query": case.query, "body": case.body, "media_type": case.media_type}  # fmt: skip
    return case.operation.Case(**{**fields, **changes})


def _reaches_its_route(case: Case) -> bool:
    if case.method.lower() != case.operation.method.lower():
        return False  # an undeclared method: 405
    return case.meta is None or not case.meta.is_negative_at(ParameterLocation.PATH)


def _deep(body: Any) -> bytes:
    """`body` (as JSON; `{}` if there is none) inside `DEPTH` levels of objects and arrays."""
    inner = json.dumps(body).encode() if isinstance(body, (dict, list, str, int, float, bool)) else b"{}"
    return b'{"a":[' * (DEPTH // 2) + inner + b"]}" * (DEPTH // 2)


_shopper: dict[str, tuple[str, float]] = {}


def _shopper_token(stack: Stack) -> str:
    """A shopper token for `x-1`, minted as the brand's server mints it (anew before it expires)."""
    token, minted = _shopper.get(stack.api, ("", 0.0))
    if time.monotonic() - minted > 300:
        answer = requests.post(f"{stack.api}/v1/members/x-1/session", json={"ttl_seconds": 900},
                               headers={"Authorization": "Bearer local-storefront-key"}, timeout=30)  # fmt: skip
        assert answer.status_code == 201, answer.text
        token, minted = answer.json()["token"], time.monotonic()
        _shopper[stack.api] = (token, minted)
    return token


def _send_variant(case: Case, stack: Stack) -> None:
    """One hostile variant of `case`: its operation's next in turn."""
    label = case.operation.label
    if case.operation.body and SENT[label, "repeated"] > SENT[label, "deep"]:
        shopper = any("shopperToken" in s for s in case.operation.definition.raw.get("security", []))
        credential = _shopper_token(stack) if shopper else "local-brand-key"
        headers = {name: value for name, value in case.headers.items() if name.lower() != "content-type"}
        _variant(
            case, headers=headers, body=_deep(case.body), media_type="application/json"
        ).call_and_validate(
            base_url=stack.api,
            headers={"Authorization": f"Bearer {credential}"},
            additional_checks=[
                valid_data_is_refused_only_by_unstateable_rules,
                _refused_with(REFUSED_BEFORE_THE_BODY.get(label, "body_too_deep"), None),
            ],
            timeout=30,
        )
        SENT[label, "deep"] += 1
        return
    header = REPEATABLE[SENT[label, "repeated"] % len(REPEATABLE)]
    # A session of its own per request, as schemathesis uses for the cases: with kept-alive connections to
    # `chalice local` instead, the run took 851 s against 313 s.
    with requests.Session() as session:
        session.mount("http://", RepeatHeader(header, {"Stripe-Signature": "t=1,v1=00"}.get(header, "k-1")))
        _variant(case).call_and_validate(
            base_url=stack.api,
            session=session,
            headers={"Authorization": "Bearer local-brand-key"},
            additional_checks=[
                valid_data_is_refused_only_by_unstateable_rules,
                _refused_with("repeated_header", header),
            ],
            timeout=30,
        )
    SENT[label, "repeated"] += 1


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
    phase = (case.operation.label, case.meta.phase.name if case.meta else None)
    if _reaches_its_route(case) and VARIED[phase] < VARIANTS_PER_PHASE:
        VARIED[phase] += 1
        _send_variant(case, fuzzed_stack)


def test_an_unknown_route_on_the_local_stack_carries_a_request_id(fuzzed_stack: Stack) -> None:
    answer = requests.get(f"{fuzzed_stack.api}/v1/no/such/route", timeout=30)

    assert answer.status_code == 404 and answer.json()["error"]["code"] == "route_not_found"
    assert answer.headers.get("X-Request-Id")
