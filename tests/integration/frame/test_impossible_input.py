"""What an attacker and a finance person tried (issue 25): each is a 400 naming the field, nothing written.

Deep bodies, repeated credentials, times and months outside the service's life, savings no plan gives,
ranges no report covers; and the error every answer carries, the unknown route's included.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import BRAND_KEY, STOREFRONT_KEY, auth, lambda_context, signed_webhook
from tests.integration.conftest import Club

NOW = datetime.now(UTC)
MONTH = NOW.strftime("%Y-%m")
DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.body
    body = json.loads(response.body)
    assert set(body) == {"error"} and set(body["error"]) == {"type", "code", "message", "param"}, body
    return dict(body["error"])


def _nothing_written(client: Any) -> None:
    """No order or disbursement counted this month (the reports read the totals every write keeps)."""
    donations, program = (
        json.loads(client.http.get(f"/v1/reports/{r}?from={MONTH}&to={MONTH}", headers=auth(BRAND_KEY)).body)
        for r in ("donations", "program")
    )
    assert [
        (row["orders"], row["disbursed"]) for row in donations["data"] if row["orders"] or row["disbursed"]
    ] == []
    assert [row for row in program["data"] if row["members"]["orders"] or row["non_members"]["orders"]] == []


@pytest.fixture
def member(club: Club) -> Club:
    club.join("ada")  # vip-monthly: 10 % off, free standard shipping from 50.00 USD
    return club


# -- bodies nested deeper than 32 levels -------------------------------------------------------------------


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, '{"order_id": ' + DEEP + "}"])
@pytest.mark.parametrize("path", ["/v1/orders", "/v1/eligibility"])
def test_a_body_nested_a_thousand_levels_is_a_400_not_a_500(
    client: Any, keys: dict[str, str], path: str, body: str
) -> None:
    error = _error(client.http.post(path, body=body, headers=auth(STOREFRONT_KEY)))

    assert error["code"] == "body_too_deep"
    assert "32" in error["message"]
    _nothing_written(client)


def test_32_levels_are_parsed_and_33_are_refused(client: Any, keys: dict[str, str]) -> None:
    inner = "[" * 31 + "]" * 31  # with the body's own object: 32 levels
    at_limit = client.http.post(
        "/v1/orders", body='{"order_id": ' + inner + "}", headers=auth(STOREFRONT_KEY)
    )
    assert _error(at_limit)["param"] == "order_id"  # parsed, then refused for its type
    deeper = "[" + inner + "]"
    assert _error(client.http.post("/v1/orders", body='{"order_id": ' + deeper + "}",
                                   headers=auth(STOREFRONT_KEY)))["code"] == "body_too_deep"  # fmt: skip


def test_brackets_inside_strings_do_not_count_as_depth(client: Any, keys: dict[str, str]) -> None:
    body = json.dumps({"order_id": "[" * 100, "customer_ref": "ada", "currency": "usd", "amount": 1})
    assert (
        _error(client.http.post("/v1/orders", body=body, headers=auth(STOREFRONT_KEY)))["param"] == "order_id"
    )


# -- the webhook reads nothing before the signature ------------------------------------------------------


@pytest.mark.parametrize(
    "body", [DEEP_OBJECT, '{"id": 5}', "not json", '{"type": "invoice.paid", "data": 1}']
)
def test_an_unsigned_webhook_learns_nothing_about_the_body(client: Any, body: str) -> None:
    response = client.http.post(
        "/v1/webhooks/stripe", body=body, headers={"Content-Type": "application/json"}
    )

    error = _error(response)
    assert (error["code"], error["param"]) == ("invalid_signature", "Stripe-Signature")
    assert "id" not in error["message"] and "JSON" not in error["message"]


def test_a_badly_signed_webhook_is_refused_the_same_whatever_its_body(client: Any) -> None:
    answers = set()
    for body in (DEEP_OBJECT, '{"id": 5}', '{"id": "evt_1", "type": "x", "data": {}}'):
        headers = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"}
        answers.add(client.http.post("/v1/webhooks/stripe", body=body, headers=headers).body)
    assert len(answers) == 1


def test_a_signed_deep_webhook_is_a_400(client: Any) -> None:
    _, headers = signed_webhook({})
    from localdev.stripe_emulator.signing import sign_payload
    from tests.helpers import WEBHOOK_SECRET

    headers["Stripe-Signature"] = sign_payload(
        DEEP_OBJECT.encode(), WEBHOOK_SECRET, int(datetime.now(UTC).timestamp())
    )
    error = _error(client.http.post("/v1/webhooks/stripe", body=DEEP_OBJECT, headers=headers))
    assert error["code"] == "body_too_deep"


# -- repeated Authorization / Stripe-Signature / Idempotency-Key -----------------------------------------


def _gateway_event(method: str, path: str, headers: list[tuple[str, str]], body: str | None = None) -> dict:
    """An API Gateway (REST, proxy) event: `headers` keeps one value per name, `multiValueHeaders` all."""
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        multi.setdefault(name, []).append(value)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "path": f"/api{path}",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("method", "path", "repeated", "body"),
    [
        ("GET", "/v1/plans", ("Authorization", f"Bearer {BRAND_KEY}"), None),
        ("POST", "/v1/webhooks/stripe", ("Stripe-Signature", "t=1,v1=00"), "{}"),
        ("POST", "/v1/orders", ("Idempotency-Key", "k-1"), "{}"),
    ],
)
def test_a_repeated_header_that_decides_who_or_what_is_a_400_naming_it(
    client: Any, keys: dict[str, str], method: str, path: str, repeated: tuple[str, str], body: str | None
) -> None:
    from app import app

    name, value = repeated
    headers = [("Authorization", f"Bearer {STOREFRONT_KEY}"), ("Content-Type", "application/json")]
    headers = [h for h in headers if h[0] != name] + [(name, value), (name.lower(), value + "x")]
    answer = app(_gateway_event(method, path, headers, body), lambda_context("vip-rewards-api", 20))

    assert answer["statusCode"] == 400
    error = json.loads(answer["body"])["error"]
    assert (error["code"], error["param"]) == ("repeated_header", name)
    _nothing_written(client)


def test_a_header_given_once_passes_through_the_gateway_event(client: Any, keys: dict[str, str]) -> None:
    from app import app

    headers = [("Authorization", f"Bearer {BRAND_KEY}")]
    answer = app(_gateway_event("GET", "/v1/plans", headers), lambda_context("vip-rewards-api", 20))
    assert answer["statusCode"] == 200


# -- facts dated outside the service's life --------------------------------------------------------------


@pytest.mark.parametrize(
    "placed_at",
    ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59Z",
     (NOW + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")],
)  # fmt: skip
def test_an_order_placed_outside_2000_to_tomorrow_is_refused(member: Club, placed_at: str) -> None:
    body = {
        "order_id": "o-1",
        "customer_ref": "ada",
        "currency": "usd",
        "amount": 100,
        "placed_at": placed_at,
    }
    error = _error(member.post("/v1/orders", body))

    assert (error["param"], error["code"]) == ("placed_at", "time_out_of_range")
    assert "2000-01-01" in error["message"]


def test_an_order_of_today_or_of_2000_is_accepted(member: Club) -> None:
    for order_id, placed_at in (("o-1", "2000-01-01T00:00:00Z"), ("o-2", NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))):
        body = {"order_id": order_id, "customer_ref": "ada", "currency": "usd", "amount": 100,
                "placed_at": placed_at}  # fmt: skip
        assert member.post("/v1/orders", body).status_code == 201


@pytest.mark.parametrize("paid_at", ["0001-01-01T00:00:00Z", "9999-01-01T00:00:00Z"])
def test_a_disbursement_paid_outside_2000_to_tomorrow_is_refused(member: Club, paid_at: str) -> None:
    body = {"disbursement_id": "d-1", "cause_id": "general-fund", "currency": "usd", "amount": 1,
            "paid_at": paid_at, "reference": "wire"}  # fmt: skip
    assert _error(member.post("/v1/disbursements", body, key=BRAND_KEY))["param"] == "paid_at"


# -- months and report ranges ----------------------------------------------------------------------------


@pytest.mark.parametrize("report", ["donations", "program", "cohorts"])
@pytest.mark.parametrize(
    ("first", "last", "param"),
    [("0001-01", MONTH, "from"), ("2026-01", "9999-12", "to"), ("2000-01", "2010-01", "to"),
     ("1999-12", "2000-01", "from")],
)  # fmt: skip
def test_a_report_range_outside_2000_to_2199_or_over_120_months_is_refused(
    client: Any, keys: dict[str, str], report: str, first: str, last: str, param: str
) -> None:
    response = client.http.get(f"/v1/reports/{report}?from={first}&to={last}", headers=auth(BRAND_KEY))
    error = _error(response)

    assert error["param"] == param
    assert "regex" not in error["message"] and "^" not in error["message"]


@pytest.mark.parametrize("report", ["donations", "program", "cohorts"])
def test_a_120_month_report_is_answered(client: Any, keys: dict[str, str], report: str) -> None:
    response = client.http.get(f"/v1/reports/{report}?from=2017-01&to=2026-12", headers=auth(BRAND_KEY))
    assert response.status_code == 200, response.body


# -- savings the plan cannot give ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "savings", "param"),
    [
        (100, {"member_discount": 10_000_000_000, "shipping": 10_000_000_000}, "savings"),
        (100, {"member_discount": 10_000_000_000, "shipping": 0}, "savings"),
        (9000, {"member_discount": 1001, "shipping": 0}, "savings.member_discount"),  # 10 % of 10 001 → 1000
        (100, {"member_discount": 0, "shipping": 9_999_999_950}, "savings"),
        (4000, {"member_discount": 0, "shipping": 595}, "savings.shipping"),  # below the 50.00 minimum
    ],
)
def test_savings_the_members_plan_cannot_give_are_refused(
    member: Club, amount: int, savings: dict[str, int], param: str
) -> None:
    body = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": amount, "savings": savings}
    error = _error(member.post("/v1/orders", body))

    assert (error["param"], error["code"]) == (param, "savings_exceed_plan")
    _nothing_written(member.client)


def test_savings_within_the_plan_are_recorded(member: Club) -> None:
    body = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 9000,
            "savings": {"member_discount": 1000, "shipping": 595}}  # fmt: skip
    assert member.post("/v1/orders", body).status_code == 201


def test_free_shipping_in_a_currency_the_plan_sets_no_minimum_for_is_refused(member: Club) -> None:
    body = {"order_id": "o-1", "customer_ref": "ada", "currency": "eur", "amount": 9000,
            "savings": {"member_discount": 0, "shipping": 595}}  # fmt: skip
    error = _error(member.post("/v1/orders", body))
    assert error["param"] == "savings.shipping" and "EUR" in error["message"]


# -- people read the messages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"order_id": "a b"}, "order_id", "1–128 characters of A-Z a-z 0-9 . _ : @ -"),
        ({"customer_ref": "ada\n"}, "customer_ref", "1–128 characters"),
    ],
)
def test_validation_messages_describe_the_format_not_the_regex(
    client: Any, keys: dict[str, str], body: dict[str, str], param: str, words: str
) -> None:
    order = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 1, **body}
    error = _error(client.http.post("/v1/orders", body=json.dumps(order), headers=auth(STOREFRONT_KEY)))

    assert error["param"] == param
    assert words in error["message"]
    assert "regex" not in error["message"] and "(?!" not in error["message"]


def test_an_unknown_route_carries_its_request_id(client: Any) -> None:
    response = client.http.get("/v1/nothing/here")

    assert _error(response, 404)["code"] == "route_not_found"
    assert response.headers.get("X-Request-Id")


def test_chalices_own_405_carries_a_request_id_too(client: Any) -> None:
    response = client.http.request("DELETE", "/v1/plans", headers={})

    assert _error(response, 405)["code"] == "method_not_allowed"
    assert response.headers.get("X-Request-Id")
