"""The synthesized CloudFormation: tables as the models declare them, least privilege, secrets, alarms."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from chalicelib.store.base import all_models

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from aws_cdk.assertions import Match, Template

from infra.tables import TABLES, TableSpec
from tests.infra.synthesized import Synthesized

XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.fixture(scope="module")
def templates(synthesized: Synthesized) -> dict[str, Template]:
    return {stage: Template.from_stack(synthesized.stack(stage)) for stage in ("dev", "prod")}


def _tables(template: Template) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::DynamoDB::Table")
    return {r["Properties"]["TableName"].split("-", 2)[2]: r for r in found.values()}


def model_shape(model: Any) -> dict[str, Any]:
    """What a pynamodb model declares: keys, attribute types, GSIs with projection, TTL attribute."""
    schema = model._get_schema()
    ttl = [n for n, a in model.get_attributes().items() if type(a).__name__ == "TTLAttribute"]
    return {
        "keys": sorted((k["KeyType"], k["AttributeName"]) for k in schema["key_schema"]),
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
        ),
        "indexes": sorted(
            (
                i["index_name"],
                tuple(sorted((k["KeyType"], k["AttributeName"]) for k in i["key_schema"])),
                i["projection"]["ProjectionType"],
            )
            for i in schema["global_secondary_indexes"]
        ),
        "ttl": ttl[0] if ttl else None,
    }


def template_shape(table: dict[str, Any]) -> dict[str, Any]:
    props = table["Properties"]
    ttl = props.get("TimeToLiveSpecification")
    return {
        "keys": sorted((k["KeyType"], k["AttributeName"]) for k in props["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]),
        "indexes": sorted(
            (
                i["IndexName"],
                tuple(sorted((k["KeyType"], k["AttributeName"]) for k in i["KeySchema"])),
                i["Projection"]["ProjectionType"],
            )
            for i in props.get("GlobalSecondaryIndexes", [])
        ),
        "ttl": ttl["AttributeName"] if ttl and ttl.get("Enabled") else None,
    }


def drift(models: list[Any], tables: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for model in models:
        name = model.Meta.table_name.split("-", 2)[2]
        if name not in tables:
            problems.append(f"{name}: no table in the infra")
        elif model_shape(model) != template_shape(tables[name]):
            problems.append(f"{name}: model {model_shape(model)} != infra {template_shape(tables[name])}")
    problems += [
        f"{name}: table without a model"
        for name in set(tables) - {m.Meta.table_name.split("-", 2)[2] for m in models}
    ]
    return problems


def test_every_table_matches_its_model_exactly(templates: dict[str, Template]) -> None:
    assert drift(all_models(), _tables(templates["prod"])) == []


def test_the_drift_check_catches_a_changed_model_key(templates: dict[str, Template]) -> None:
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.models import Model

    from chalicelib.store.members import MemberRecord

    class ChangedMembers(Model):
        class Meta:
            table_name = MemberRecord.Meta.table_name

        customer_ref = UnicodeAttribute(hash_key=True)
        joined = UnicodeAttribute(range_key=True)  # a new sort key the infra does not have

    problems = drift([ChangedMembers], {"members": _tables(templates["prod"])["members"]})
    assert len(problems) == 1 and problems[0].startswith("members: model")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_tables_are_on_demand_with_point_in_time_recovery(templates: dict[str, Template], stage: str) -> None:
    for table in _tables(templates[stage]).values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_deletion_protection_and_retention_in_prod_only(templates: dict[str, Template]) -> None:
    for table in _tables(templates["prod"]).values():
        assert (
            table["Properties"]["DeletionProtectionEnabled"] is True and table["DeletionPolicy"] == "Retain"
        )
    for table in _tables(templates["dev"]).values():
        assert not table["Properties"].get("DeletionProtectionEnabled")


def test_the_idempotency_table_expires_records(templates: dict[str, Template]) -> None:
    assert template_shape(_tables(templates["prod"])["idempotency"])["ttl"] == "expires_at"


def test_iam_names_only_our_tables_and_secret(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    tables = set(template.find_resources("AWS::DynamoDB::Table"))
    secrets = set(template.find_resources("AWS::SecretsManager::Secret"))
    referenced: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            assert "*" not in actions and not any(a.endswith(":*") for a in actions)
            if set(actions) <= XRAY_ACTIONS:
                continue  # X-Ray has no resource-level permissions
            assert "*" not in resources
            named = {logical for logical in tables | secrets if logical in json.dumps(resources)}
            if any(a.startswith(("dynamodb:", "secretsmanager:")) for a in actions):
                # Every resource of a data statement is one of our tables (or its indexes) or the secret.
                assert len(named) >= 1 and all(any(n in json.dumps(r) for n in named) for r in resources)
            referenced |= named
    assert referenced == tables | secrets


def test_stripe_keys_live_in_secrets_manager_not_in_environment(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    template.resource_count_is("AWS::SecretsManager::Secret", 1)
    for function in template.find_resources("AWS::Serverless::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        assert "STRIPE_SECRET_ARN" in env
        assert "STRIPE_API_KEY" not in env and "STRIPE_WEBHOOK_SECRET" not in env
        assert "sk_" not in json.dumps(env) and "whsec_" not in json.dumps(env)


def test_api_is_throttled(templates: dict[str, Template]) -> None:
    templates["prod"].has_resource_properties(
        "AWS::Serverless::Api",
        {"MethodSettings": [Match.object_like({"ThrottlingRateLimit": 500, "ThrottlingBurstLimit": 1000})]},
    )


def _gateway_responses(template: Template) -> dict[str, dict[str, Any]]:
    found = template.find_resources("AWS::ApiGateway::GatewayResponse")
    return {r["Properties"]["ResponseType"]: r["Properties"] for r in found.values()}


def _rendered(template_body: str, message: str = "Missing Authentication Token") -> dict[str, Any]:
    """The body as API Gateway renders it (simple substitution of its `$context` variables)."""
    body = template_body.replace("$context.error.messageString", json.dumps(message))
    body = body.replace("$context.requestId", "c0ffee00-1234-4d56-8e9f-0a1b2c3d4e5f")
    rendered: dict[str, Any] = json.loads(body)
    return rendered


def test_a_throttled_request_gets_the_contract_error_shape_with_retry_after(
    templates: dict[str, Template],
) -> None:
    throttled = _gateway_responses(templates["prod"])["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"
    body = _rendered(throttled["ResponseTemplates"]["application/json"])
    assert body["error"]["type"] == "rate_limit" and body["error"]["param"] is None


@pytest.mark.parametrize(
    ("response_type", "status", "kind", "retry_after"),
    [
        ("INTEGRATION_TIMEOUT", "503", "upstream", "'1'"),
        ("INTEGRATION_FAILURE", "502", "upstream", "'2'"),
        ("DEFAULT_5XX", "500", "internal", None),
        ("DEFAULT_4XX", None, "invalid_request", None),
    ],
)
def test_api_gateways_own_errors_have_the_contract_shape_and_the_request_id(
    templates: dict[str, Template], response_type: str, status: str | None, kind: str, retry_after: str | None
) -> None:
    answer = _gateway_responses(templates["prod"])[response_type]
    body = _rendered(answer["ResponseTemplates"]["application/json"])

    assert answer.get("StatusCode") == status
    assert answer["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/json'"
    assert answer["ResponseParameters"].get("gatewayresponse.header.Retry-After") == retry_after
    assert set(body) == {"error"} and set(body["error"]) == {"type", "code", "message", "param"}
    assert (body["error"]["type"], body["error"]["param"]) == (kind, None)
    if response_type == "DEFAULT_4XX":
        assert body["error"]["message"] == "Missing Authentication Token"
    else:
        assert "c0ffee00-1234-4d56-8e9f-0a1b2c3d4e5f" in body["error"]["message"]


def test_every_gateway_status_is_one_the_openapi_document_lists(templates: dict[str, Template]) -> None:
    from chalicelib.api.openapi import FRAME_STATUSES

    fixed = {answer.get("StatusCode") for answer in _gateway_responses(templates["prod"]).values()} - {None}
    assert {int(status) for status in fixed} <= set(FRAME_STATUSES)


def test_alarms_watch_5xx_webhook_failures_throttles_and_lambda_errors(
    templates: dict[str, Template],
) -> None:
    alarms = templates["prod"].find_resources("AWS::CloudWatch::Alarm").values()
    metrics = [a["Properties"].get("MetricName") for a in alarms]
    assert "5XXError" in metrics and "Errors" in metrics
    assert metrics.count("ThrottledRequests") == len(TABLES)
    assert any(str(m).startswith("WebhookFailures") for m in metrics)
    templates["prod"].has_resource_properties(
        "AWS::Logs::MetricFilter", {"FilterPattern": Match.string_like_regexp("stripe event failed")}
    )


def test_the_hourly_reconciliation_is_scheduled(templates: dict[str, Template]) -> None:
    functions = templates["prod"].find_resources("AWS::Serverless::Function")
    reconcile = functions["ReconcileMembers"]["Properties"]
    events = json.dumps(reconcile["Events"])
    assert "rate(1 hour)" in events


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_function_runs_with_the_timeout_the_code_budgets_for(
    templates: dict[str, Template], stage: str
) -> None:
    from chalicelib.settings import LAMBDA_TIMEOUT_SECONDS, RECONCILE_TIMEOUT_SECONDS

    functions = _functions(templates[stage])
    assert functions["APIHandler"]["Timeout"] == LAMBDA_TIMEOUT_SECONDS
    assert functions["ReconcileMembers"]["Timeout"] == RECONCILE_TIMEOUT_SECONDS
    assert "LAMBDA_TIMEOUT_SECONDS" not in json.dumps([f["Environment"] for f in functions.values()])


def test_table_specs_are_unique() -> None:
    assert len({spec.name for spec in TABLES}) == len(TABLES)
    assert all(isinstance(spec, TableSpec) for spec in TABLES)


def _functions(template: Template) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template.find_resources("AWS::Serverless::Function").items()}


def test_both_functions_deploy_the_built_package_on_its_architecture(
    synthesized: Synthesized, lambda_package: Any
) -> None:
    built = lambda_package.path.read_bytes()
    for function in _functions(Template.from_stack(synthesized.stack("prod"))).values():
        asset = synthesized.outdir / f"asset.{function['CodeUri']['Key']}"  # <asset hash>.zip
        assert asset.read_bytes() == built
        assert function["Architectures"] == ["x86_64"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_api_access_logs_are_json_lines_carrying_the_request_id_the_api_returns(
    templates: dict[str, Template], stage: str
) -> None:
    (api,) = templates[stage].find_resources("AWS::Serverless::Api").values()
    setting = api["Properties"]["AccessLogSetting"]
    line = json.loads(setting["Format"])
    assert line["requestId"] == "$context.requestId" and line["status"] == "$context.status"
    log_groups = templates[stage].find_resources("AWS::Logs::LogGroup")
    assert setting["DestinationArn"]["Fn::GetAtt"][0] in log_groups
    assert api["Properties"]["MethodSettings"][0]["DataTraceEnabled"] is False  # bodies carry keys
    accounts = templates[stage].find_resources("AWS::ApiGateway::Account")
    assert len(accounts) == 1 and list(accounts) == api["DependsOn"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_tracing_is_on_for_the_api_stage_and_both_functions(
    templates: dict[str, Template], stage: str
) -> None:
    (api,) = templates[stage].find_resources("AWS::Serverless::Api").values()
    assert api["Properties"]["TracingEnabled"] is True
    assert {f["Tracing"] for f in _functions(templates[stage]).values()} == {"Active"}


def test_a_failed_hourly_run_is_retried_then_queued_and_alarmed(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    (queue_id,) = [q for q in template.find_resources("AWS::SQS::Queue") if q.startswith("ReconcileFailures")]
    config = _functions(template)["ReconcileMembers"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS", "Destination": {"Fn::GetAtt": [queue_id, "Arn"]}
    }  # fmt: skip
    alarms = template.find_resources("AWS::CloudWatch::Alarm").values()
    watching = [
        a for a in alarms if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    ]
    assert len([a for a in watching if queue_id in json.dumps(a["Properties"]["Dimensions"])]) == 1
    statements = [
        s for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]  # fmt: skip
    assert any("sqs:SendMessage" in s["Action"] and queue_id in json.dumps(s["Resource"]) for s in statements)


@pytest.mark.parametrize(("stage", "ceiling"), [("dev", 20), ("prod", 200)])
def test_concurrency_is_reserved_and_the_hourly_job_runs_alone(
    templates: dict[str, Template], stage: str, ceiling: int
) -> None:
    functions = _functions(templates[stage])
    assert functions["APIHandler"]["ReservedConcurrentExecutions"] == ceiling
    assert functions["ReconcileMembers"]["ReservedConcurrentExecutions"] == 1


@pytest.mark.parametrize(("stage", "days"), [("dev", 14), ("prod", 90)])
def test_every_log_group_keeps_logs_for_the_stage_retention(
    templates: dict[str, Template], stage: str, days: int
) -> None:
    log_groups = templates[stage].find_resources("AWS::Logs::LogGroup").values()
    named = json.dumps([g["Properties"].get("LogGroupName") for g in log_groups])
    assert "APIHandler" in named and "ReconcileMembers" in named
    assert "FanOutEvents" in named and "DeliverWebhooks" in named
    assert [g["Properties"]["RetentionInDays"] for g in log_groups] == [days] * 5


def test_the_outbox_stream_feeds_fan_out_and_the_queue_feeds_delivery(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    tables = template.find_resources("AWS::DynamoDB::Table")
    (events_id,) = [k for k, t in tables.items() if t["Properties"]["TableName"] == "vip-prod-events"]
    assert tables[events_id]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    mappings = {m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
                for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()}  # fmt: skip
    stream = mappings["FanOutEvents"]
    assert stream["EventSourceArn"] == {"Fn::GetAtt": [events_id, "StreamArn"]}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "OnFailure" in stream["DestinationConfig"]
    queue = mappings["DeliverWebhooks"]
    assert queue["EventSourceArn"]["Fn::GetAtt"][0].startswith("WebhookDeliveries")
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queues = template.find_resources("AWS::SQS::Queue")
    (deliveries_id,) = [q for q in queues if q.startswith("WebhookDeliveries") and "DLQ" not in q]
    redrive = queues[deliveries_id]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0].startswith("WebhookDeliveriesDLQ")


def test_delivery_alarms_watch_the_oldest_delivery_and_the_dead_letters(
    templates: dict[str, Template],
) -> None:
    alarms = [a["Properties"] for a in templates["prod"].find_resources("AWS::CloudWatch::Alarm").values()]
    by_metric = {(a.get("MetricName"), json.dumps(a.get("Dimensions"))) for a in alarms}
    assert any(m == "ApproximateAgeOfOldestMessage" and "WebhookDeliveries" in d for m, d in by_metric)
    assert any(
        m == "ApproximateNumberOfMessagesVisible" and "WebhookDeliveriesDLQ" in d for m, d in by_metric
    )
    assert any(m == "IteratorAge" and "FanOutEvents" in d for m, d in by_metric)


def test_the_delivery_functions_have_their_own_least_privilege_role(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    functions = _functions(template)
    roles = {functions[name]["Role"]["Fn::GetAtt"][0] for name in ("FanOutEvents", "DeliverWebhooks")}
    (role_id,) = roles
    assert role_id.startswith("DeliveryRole")
    statements = [
        s for p in template.find_resources("AWS::IAM::Policy").values()
        if role_id in json.dumps(p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]  # fmt: skip
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "dynamodb:Scan" in actions and "dynamodb:GetRecords" in actions and "sqs:SendMessage" in actions
    assert not {"dynamodb:DeleteItem", "dynamodb:Query", "secretsmanager:GetSecretValue"} & actions
    assert all(s["Resource"] != "*" for s in statements if not str(s["Action"]).startswith("['xray"))


def test_the_app_role_may_batch_get_the_change_stamps_reports_read(templates: dict[str, Template]) -> None:
    template = templates["prod"]
    role_id = _functions(template)["APIHandler"]["Role"]["Fn::GetAtt"][0]
    actions = {
        a
        for p in template.find_resources("AWS::IAM::Policy").values()
        if role_id in json.dumps(p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # store/stamps.py (every report) and store/ledger.voids_of read with BatchGetItem
    assert {"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"} <= actions
