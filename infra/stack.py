"""One stage of VIP Rewards: tables, the Stripe secret, the Chalice app with a least-privilege role,
API throttling and alarms."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.settings import LAMBDA_TIMEOUT_SECONDS
from infra.tables import TABLES, TableSpec

ROOT = Path(__file__).resolve().parent.parent
API_HANDLER = "APIHandler"
SCHEDULE_HANDLER = "ReconcileMembers"
WEBHOOK_FAILURE_MESSAGE = "stripe event failed"
THROTTLED_BODY = (
    '{"error": {"type": "rate_limit", "code": "rate_limited", '
    '"message": "Too many requests; retry after the Retry-After seconds (request $context.requestId).", '
    '"param": null}}'
)
# What the service does to its tables (transactions need the per-item actions); no admin actions.
TABLE_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "ConditionCheckItem",
                 "BatchWriteItem", "DescribeTable")  # fmt: skip


@dataclass(frozen=True)
class StageConfig:
    stage: str
    production: bool
    throttle_rate: int
    throttle_burst: int
    memory_mb: int
    log_retention: logs.RetentionDays


STAGES = {
    "dev": StageConfig("dev", False, 50, 100, 512, logs.RetentionDays.TWO_WEEKS),
    "prod": StageConfig("prod", True, 500, 1000, 1024, logs.RetentionDays.THREE_MONTHS),
}

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
_PROJECTIONS = {"KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY, "ALL": dynamodb.ProjectionType.ALL}


class VipRewardsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, config: StageConfig, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        prefix = f"vip-{config.stage}"
        self.tables = {spec.name: self._table(spec, prefix, config) for spec in TABLES}
        self.stripe_secret = secretsmanager.Secret(
            self, "StripeSecret", secret_name=f"{prefix}/stripe",
            description='Stripe keys: {"api_key": "sk_...", "webhook_secret": "whsec_a,whsec_b"}',
            removal_policy=cdk.RemovalPolicy.RETAIN if config.production else cdk.RemovalPolicy.DESTROY,
        )  # fmt: skip
        role = self._role(config)
        app = Chalice(
            self, "App", source_dir=str(ROOT),
            stage_config={
                "api_gateway_stage": config.stage,
                "lambda_memory_size": config.memory_mb,
                # The one timeout setting: the code derives every Stripe/DynamoDB timeout from it.
                "lambda_timeout": LAMBDA_TIMEOUT_SECONDS,
                "manage_iam_role": False,
                "iam_role_arn": role.role_arn,
                "environment_variables": {
                    "STAGE": config.stage,
                    "TABLE_PREFIX": prefix,
                    # The ARN only: the function reads the secret once per cold start.
                    "STRIPE_SECRET_ARN": self.stripe_secret.secret_arn,
                    "LOG_LEVEL": "INFO",
                },
            },
        )  # fmt: skip
        api = app.sam_template.get_resource("RestAPI")
        api.add_property_override(
            "MethodSettings",
            [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": config.throttle_rate,
              "ThrottlingBurstLimit": config.throttle_burst, "MetricsEnabled": True}],
        )  # fmt: skip
        # A throttled request never reaches the function: API Gateway answers it in the contract's shape.
        apigateway.CfnGatewayResponse(
            self, "Throttled", rest_api_id=api.ref, response_type="THROTTLED", status_code="429",
            response_parameters={"gatewayresponse.header.Retry-After": "'1'",
                                 "gatewayresponse.header.Content-Type": "'application/json'"},
            response_templates={"application/json": THROTTLED_BODY},
        )  # fmt: skip
        self._alarms(app, config)

    def _table(self, spec: TableSpec, prefix: str, config: StageConfig) -> dynamodb.Table:
        table = dynamodb.Table(
            self, f"Table-{spec.name}", table_name=f"{prefix}-{spec.name}",
            partition_key=dynamodb.Attribute(name=spec.hash_key[0], type=_TYPES[spec.hash_key[1]]),
            sort_key=dynamodb.Attribute(name=spec.range_key[0], type=_TYPES[spec.range_key[1]])
            if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=config.production,
            removal_policy=cdk.RemovalPolicy.RETAIN if config.production else cdk.RemovalPolicy.DESTROY,
            time_to_live_attribute=spec.ttl_attribute,
        )  # fmt: skip
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.hash_key[0], type=_TYPES[index.hash_key[1]]),
                sort_key=dynamodb.Attribute(name=index.range_key[0], type=_TYPES[index.range_key[1]])
                if index.range_key else None,
                projection_type=_PROJECTIONS[index.projection],
            )  # fmt: skip
        return table

    def _role(self, config: StageConfig) -> iam.Role:
        """The functions' role: their own tables and indexes, the Stripe secret, their logs. Nothing else."""
        role = iam.Role(self, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        resources = []
        for table in self.tables.values():
            resources += [table.table_arn, f"{table.table_arn}/index/*"]
        role.add_to_policy(iam.PolicyStatement(
            actions=[f"dynamodb:{action}" for action in TABLE_ACTIONS],
            resources=resources,
        ))  # fmt: skip
        role.add_to_policy(iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue"], resources=[self.stripe_secret.secret_arn],
        ))  # fmt: skip
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:/aws/lambda/*"],
        ))  # fmt: skip
        return role

    def _alarms(self, app: Chalice, config: StageConfig) -> None:
        api_function = app.sam_template.get_resource(API_HANDLER)
        schedule_function = app.sam_template.get_resource(SCHEDULE_HANDLER)
        log_group = logs.LogGroup(
            self, "ApiLogs", log_group_name=cdk.Fn.join("", ["/aws/lambda/", api_function.ref]),
            retention=config.log_retention,
        )  # fmt: skip
        webhook_failures = logs.MetricFilter(
            self, "WebhookFailures", log_group=log_group, metric_namespace="VipRewards",
            metric_name=f"WebhookFailures-{config.stage}",
            filter_pattern=logs.FilterPattern.string_value("$.message", "=", WEBHOOK_FAILURE_MESSAGE),
            metric_value="1", default_value=0,
        )  # fmt: skip
        period = cdk.Duration.minutes(5)
        cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            statistic="Average",
            period=period,
            dimensions_map={"ApiName": "vip-rewards", "Stage": config.stage},
        ).create_alarm(
            self,
            "Api5xxRate",
            threshold=0.02,
            evaluation_periods=2,
            alarm_description="More than 2 % of API requests failed with 5xx for 10 minutes.",
        )
        webhook_failures.metric(statistic="Sum", period=period).create_alarm(
            self, "WebhookFailuresAlarm", threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="Stripe webhooks failed transiently (Stripe retries); check Stripe, DynamoDB.",
        )  # fmt: skip
        for name, function in (("Api", api_function), ("Reconcile", schedule_function)):
            cloudwatch.Metric(
                namespace="AWS/Lambda", metric_name="Errors", statistic="Sum", period=period,
                dimensions_map={"FunctionName": function.ref},
            ).create_alarm(self, f"{name}LambdaErrors", threshold=1, evaluation_periods=1,
                           comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                           alarm_description=f"The {name} function raised (crash or timeout).")  # fmt: skip
        for spec_name, table in self.tables.items():
            cloudwatch.Metric(
                namespace="AWS/DynamoDB", metric_name="ThrottledRequests", statistic="Sum", period=period,
                dimensions_map={"TableName": table.table_name},
            ).create_alarm(self, f"Throttles-{spec_name}", threshold=1, evaluation_periods=1,
                           comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                           alarm_description=f"DynamoDB throttled requests on {spec_name}.")  # fmt: skip
