"""Smoke test of the shipped artefact: the deployment zip, unpacked read-only and run as Lambda runs it,
answers API Gateway events and runs the hourly job against DynamoDB (moto) and Stripe (the emulator)."""

from __future__ import annotations

import json
import os
import sysconfig
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.package import PackageReport
from localdev.packaged_lambda import (
    PackagedLambda,
    api_event,
    packaged_lambda,
    scheduled_event,
    tree,
    unpack_read_only,
)
from tests.helpers import BRAND_KEY, STOREFRONT_KEY, WEBHOOK_SECRET, auth, signed_webhook
from tests.unit.test_cold_imports import ELIGIBILITY_CODE, ON_FIRST_USE, other_routes_code

PLAN = {
    "name": "VIP Monthly", "amount": 999, "currency": "usd", "interval": "month",
    "perks": {"free_shipping": {"min_subtotal": {"usd": 5000}, "methods": ["standard"]},
              "member_discount": {"percent": 10}, "early_access": None},
    "donation": {"order_bps": 200, "renewal_bps": 1000},
}  # fmt: skip
CART = {
    "currency": "usd",
    "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 2}],
    "shipping": {"method": "standard", "amount": 595},
}


@pytest.fixture(scope="module")
def unpacked(lambda_package: PackageReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack_read_only(lambda_package.path, tmp_path_factory.mktemp("lambda") / "task")


def _environment(dynamodb_url: str, emulator: Any, *names: str) -> dict[str, str]:
    """The tests' AWS settings and stage, plus `names` from the tests' own environment."""
    environment = {
        name: os.environ[name]
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                     "AWS_REGION", "AWS_EC2_METADATA_DISABLED", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "STAGE",
                     "TABLE_PREFIX", "DEFAULT_CAUSE_ID", *names)
    }  # fmt: skip
    environment.update(DYNAMODB_HOST=dynamodb_url, STRIPE_API_BASE=emulator.base_url, LOG_LEVEL="INFO")
    return environment


@pytest.fixture
def container(
    unpacked: Path, dynamodb_url: str, emulator: Any, keys: dict[str, str]
) -> Iterator[PackagedLambda]:
    """A cold container of the package, with the Stripe keys in its environment as in local runs."""
    environment = _environment(dynamodb_url, emulator, "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")
    with packaged_lambda(unpacked, environment) as runtime:
        yield runtime


# What the operator puts in the stage's secret (docs/deploy.md), here mid-rotation of the signing secret.
SECRET_API_KEY = "sk_test_from_secrets_manager"
SECRET_SIGNING_SECRETS = ("whsec_new_from_secrets_manager", "whsec_old_from_secrets_manager")


@pytest.fixture
def deployed_container(
    unpacked: Path, dynamodb_url: str, emulator: Any, keys: dict[str, str]
) -> Iterator[PackagedLambda]:
    """A cold container configured as the stack deploys it: no Stripe key in its environment, only the
    ARN of the stage's secret (`STRIPE_SECRET_ARN`), read from Secrets Manager (moto; botocore's
    service-specific endpoint variable points the package's client there)."""
    import boto3

    secrets = boto3.client("secretsmanager", endpoint_url=dynamodb_url)
    created = secrets.create_secret(
        Name="vip-test/stripe",
        SecretString=json.dumps(
            {"api_key": SECRET_API_KEY, "webhook_secret": ",".join(SECRET_SIGNING_SECRETS)}
        ),
    )
    environment = _environment(dynamodb_url, emulator)
    assert "STRIPE_API_KEY" not in environment and "STRIPE_WEBHOOK_SECRET" not in environment
    environment.update(STRIPE_SECRET_ARN=created["ARN"], AWS_ENDPOINT_URL_SECRETS_MANAGER=dynamodb_url)
    with packaged_lambda(unpacked, environment) as runtime:
        yield runtime


def call(runtime: PackagedLambda, method: str, resource: str, path: str | None = None, **kw: Any) -> Any:
    response = runtime.invoke("app.app", api_event(method, resource, path, **kw))
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    return response


def create_plan(runtime: PackagedLambda) -> None:
    response = call(runtime, "PUT", "/v1/plans/{plan_id}", "/v1/plans/vip-monthly", body=PLAN,
                    headers=auth(BRAND_KEY))  # fmt: skip
    assert response["statusCode"] == 200, response["body"]


def test_the_package_runs_only_its_own_code_and_libraries(container: PackagedLambda, unpacked: Path) -> None:
    assert call(container, "GET", "/v1/plans")["statusCode"] == 200
    stdlib = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
    assert not [entry for entry in container.path if "site-packages" in entry]
    for name in ("app", "chalicelib.api.routing", "pynamodb.models", "botocore.client", "chalice.app"):
        assert container.modules[name].startswith(str(unpacked)), name
    foreign = {
        name: file for name, file in container.modules.items()
        if file and not file.startswith(str(unpacked)) and not any(file.startswith(p) for p in stdlib)
    }  # fmt: skip
    assert foreign == {}


def test_a_cold_package_answering_eligibility_imports_no_other_routes_code(
    container: PackagedLambda, unpacked: Path, dynamodb_url: str, emulator: Any
) -> None:
    create_plan(container)
    environment = _environment(dynamodb_url, emulator, "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET")
    with packaged_lambda(unpacked, environment) as cold:
        answer = call(cold, "POST", "/v1/eligibility", body={"customer_ref": "grace", **CART},
                      headers=auth(STOREFRONT_KEY))  # fmt: skip

        assert answer["statusCode"] == 200, answer["body"]
        assert answer["json"]["join_preview"]["plan_id"] == "vip-monthly"
        assert [m for m in ELIGIBILITY_CODE if m not in cold.modules] == []
        assert [m for m in [*other_routes_code(), *ON_FIRST_USE] if m in cold.modules] == []


def test_the_packaged_api_creates_a_plan_in_stripe_and_lists_it_publicly(container: PackagedLambda) -> None:
    create_plan(container)

    listed = call(container, "GET", "/v1/plans")

    assert listed["statusCode"] == 200
    assert [plan["plan_id"] for plan in listed["json"]["data"]] == ["vip-monthly"]


def test_the_packaged_api_applies_signed_webhooks_and_answers_eligibility(
    container: PackagedLambda, emulator: Any
) -> None:
    create_plan(container)
    checkout = call(container, "POST", "/v1/members/{customer_ref}/checkout", "/v1/members/ada/checkout",
                    body={"plan_id": "vip-monthly", "email": "ada@example.com",
                          "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"},
                    headers=auth(STOREFRONT_KEY))  # fmt: skip
    assert checkout["statusCode"] == 201, checkout["body"]
    before = len(emulator.events)
    emulator.complete_checkout(checkout["json"]["session_id"], "succeeded")
    for event in emulator.events_since(before):
        payload, headers = signed_webhook(event, WEBHOOK_SECRET)
        delivered = call(container, "POST", "/v1/webhooks/stripe", raw_body=payload, headers=headers)
        assert delivered["statusCode"] == 200, delivered["body"]
    forged, headers = signed_webhook(emulator.events[-1], "whsec_not_ours")
    assert (
        call(container, "POST", "/v1/webhooks/stripe", raw_body=forged, headers=headers)["statusCode"] == 400
    )

    answer = call(container, "POST", "/v1/eligibility", body={"customer_ref": "ada", **CART},
                  headers=auth(STOREFRONT_KEY))  # fmt: skip

    assert answer["statusCode"] == 200, answer["body"]
    assert answer["json"]["member"] is True
    assert answer["json"]["member_discount"] == {"percent": 10, "amount": 500}
    assert answer["json"]["shipping"] == {"free": True, "discount": 595}


def test_the_deployed_package_calls_stripe_and_verifies_webhooks_with_the_keys_from_secrets_manager(
    deployed_container: PackagedLambda, emulator: Any
) -> None:
    create_plan(deployed_container)  # Stripe Product and Price: only the secret holds an API key
    checkout = call(deployed_container, "POST", "/v1/members/{customer_ref}/checkout", "/v1/members/ada/checkout",
                    body={"plan_id": "vip-monthly", "email": "ada@example.com",
                          "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"},
                    headers=auth(STOREFRONT_KEY))  # fmt: skip
    assert checkout["statusCode"] == 201, checkout["body"]
    before = len(emulator.events)
    emulator.complete_checkout(checkout["json"]["session_id"], "succeeded")
    events = emulator.events_since(before)
    assert len(events) >= 2

    not_ours, headers = signed_webhook(events[0], WEBHOOK_SECRET)  # the local runs' secret, not the stage's
    rejected = call(deployed_container, "POST", "/v1/webhooks/stripe", raw_body=not_ours, headers=headers)
    for number, event in enumerate(events):  # signed with either secret of the rotation
        payload, headers = signed_webhook(event, SECRET_SIGNING_SECRETS[number % 2])
        delivered = call(deployed_container, "POST", "/v1/webhooks/stripe", raw_body=payload, headers=headers)
        assert delivered["statusCode"] == 200, delivered["body"]

    assert rejected["statusCode"] == 400, rejected["body"]
    member = call(deployed_container, "GET", "/v1/members/{customer_ref}", "/v1/members/ada",
                  headers=auth(STOREFRONT_KEY))  # fmt: skip
    assert member["json"]["status"] == "active" and member["json"]["perks_active"] is True


def test_the_packaged_hourly_job_heals_a_membership_whose_webhooks_were_lost(
    container: PackagedLambda, client: Any, emulator: Any
) -> None:
    from chalicelib import clock

    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    clock.set_clock(lambda: two_hours_ago)  # the checkout started long enough ago to be due a check
    assert (
        client.http.put("/v1/plans/vip-monthly", body=json.dumps(PLAN), headers=auth(BRAND_KEY)).status_code
        == 200
    )
    started = client.http.post(
        "/v1/members/grace/checkout", headers=auth(STOREFRONT_KEY),
        body=json.dumps({"plan_id": "vip-monthly", "email": "grace@example.com",
                         "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"}),
    )  # fmt: skip
    clock.set_clock(None)
    emulator.complete_checkout(
        json.loads(started.body)["session_id"], "succeeded"
    )  # webhooks never delivered

    container.invoke("chalicelib.api.admin.reconcile_members", scheduled_event(), function="ReconcileMembers")

    member = call(
        container, "GET", "/v1/members/{customer_ref}", "/v1/members/grace", headers=auth(STOREFRONT_KEY)
    )
    assert member["json"]["status"] == "active" and member["json"]["perks_active"] is True
    runs = [line for line in container.log_lines() if line.get("message") == "reconciliation run"]
    assert len(runs) == 1 and runs[0]["checked"] == 1 and runs[0]["fixed"] >= 1  # its JSON log line


def test_the_packaged_api_serves_the_dashboard_page_from_its_assets(container: PackagedLambda) -> None:
    page = container.invoke("app.app", api_event("GET", "/dashboard"))

    assert page["statusCode"] == 200, page["body"]
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert "/*STYLE*/" not in page["body"] and "/*SCRIPT*/" not in page["body"]  # CSS and JS inlined
    assert "<html" in page["body"]


def test_running_the_package_writes_nothing_into_it(unpacked: Path, container: PackagedLambda) -> None:
    files_before = tree(unpacked)

    create_plan(container)
    call(container, "GET", "/v1/plans")

    assert tree(unpacked) == files_before
