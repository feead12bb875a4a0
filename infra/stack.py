"""One stage of VIP Rewards: tables, the Stripe secret, the Chalice app (deploying the `make package` zip)
with a least-privilege role, API throttling, access logs and tracing, the hourly job's failure queue, alarms.

Every checkov finding this template still has is suppressed in `_checkov_exceptions`, with the reason it
does not apply; `tests/infra` runs checkov and cfn-lint on the templates, so a new finding fails the build.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from chalice.cdk import Chalice
from constructs import Construct

from chalicelib.settings import DELIVERY_TIMEOUT_SECONDS, LAMBDA_TIMEOUT_SECONDS, RECONCILE_TIMEOUT_SECONDS
from infra.package import package_architecture
from infra.tables import TABLES, TableSpec

ROOT = Path(__file__).resolve().parent.parent
API_HANDLER = "APIHandler"
SCHEDULE_HANDLER = "ReconcileMembers"
FAN_OUT_HANDLER = "FanOutEvents"
DELIVERY_HANDLER = "DeliverWebhooks"
WEBHOOK_FAILURE_MESSAGE = "stripe event failed"


@dataclass(frozen=True)
class GatewayAnswer:
    """How API Gateway answers a request in the contract's error shape when the function does not.

    `status` None keeps API Gateway's own status (the 4xx family: 403, 404, 413 ...). Gateway response
    templates substitute `$context` variables but run no logic, so each answer's `type` is fixed.
    """

    status: str | None
    type: str
    code: str
    message: str
    retry_after: str | None = None

    def body(self) -> str:
        return json.dumps(
            {"error": {"type": self.type, "code": self.code, "message": "@MESSAGE@", "param": None}}
        ).replace('"@MESSAGE@"', self.message)


# Every answer API Gateway makes itself (the function never ran, or did not answer): the contract's error
# shape with the request id its logs and access logs carry (API Gateway also sends it as x-amzn-RequestId).
# Statuses are those the OpenAPI document lists: a function that ran out of time is a 503 worth a retry
# (with the same Idempotency-Key: it may have committed), a function that failed a 502, anything else ours.
GATEWAY_ANSWERS = {
    "THROTTLED": GatewayAnswer("429", "rate_limit", "rate_limited", json.dumps(
        "Too many requests; retry after the Retry-After seconds (request $context.requestId)."), "1"),
    "INTEGRATION_TIMEOUT": GatewayAnswer("503", "upstream", "timeout", json.dumps(
        "The service did not answer in time; retry with the same Idempotency-Key "
        "(request $context.requestId)."), "1"),
    "INTEGRATION_FAILURE": GatewayAnswer("502", "upstream", "function_failed", json.dumps(
        "The service failed to answer; retry with the same Idempotency-Key (request $context.requestId)."),
        "2"),
    "DEFAULT_5XX": GatewayAnswer("500", "internal", "internal_error", json.dumps(
        "An internal error occurred. Request id: $context.requestId.")),
    # $context.error.messageString is API Gateway's own message, already quoted and escaped for JSON.
    "DEFAULT_4XX": GatewayAnswer(None, "invalid_request", "gateway_rejected",
                                 "$context.error.messageString"),
}  # fmt: skip
# What the service does to its tables (transactions need the per-item actions); no admin actions.
TABLE_ACTIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "ConditionCheckItem",
                 "BatchWriteItem", "BatchGetItem", "DescribeTable")  # fmt: skip


# API Gateway access log line (JSON): `requestId` is the id the API returns in error bodies and logs.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "extendedRequestId": "$context.extendedRequestId",
    "lambdaRequestId": "$context.integration.requestId", "xrayTraceId": "$context.xrayTraceId",
    "requestTime": "$context.requestTime", "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent", "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath", "path": "$context.path", "protocol": "$context.protocol",
    "status": "$context.status", "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency", "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status", "errorMessage": "$context.error.message",
}  # fmt: skip
# Lambda retries a failed hourly run (an async invocation) this often, then parks the event in the queue.
RECONCILE_RETRIES = 2
# A delivery message handed out this often without being finished (crashes, timeouts) goes to the DLQ; the
# worker's own attempts (9, SPEC's schedule) stay below it.
DELIVERY_RECEIVES = 15
# A batch of outbox records that keeps failing fan-out is retried this often, then sent to the DLQ.
FAN_OUT_RETRIES = 10


@dataclass(frozen=True)
class StageConfig:
    stage: str
    production: bool
    throttle_rate: int
    throttle_burst: int
    memory_mb: int
    log_retention: logs.RetentionDays
    # X-Ray on the API stage and both functions.
    tracing: bool
    # The API function's concurrency ceiling (it keeps a burst from starving the account's other functions
    # and bounds the load on Stripe); the hourly job runs one at a time.
    reserved_concurrency: int


STAGES = {
    "dev": StageConfig("dev", False, 50, 100, 512, logs.RetentionDays.TWO_WEEKS, tracing=True,
                       reserved_concurrency=20),
    "prod": StageConfig("prod", True, 500, 1000, 1024, logs.RetentionDays.THREE_MONTHS, tracing=True,
                        reserved_concurrency=200),
}  # fmt: skip

# Why each suppressed checkov check does not apply (`_checkov_exceptions` attaches them to the resources).
WHY_NOT = {
    "table_cmk": "Encrypted at rest with the AWS owned key. A customer managed key would add a KMS call, its "
    "cost and its quota to every read of the checkout hot path; the tables hold no card data (Stripe keeps "
    "it) and no secrets (API keys are stored hashed).",
    "secret_cmk": "Encrypted with the account's aws/secretsmanager key and readable by this stage's role "
    "only; a customer managed key is needed for cross-account access, which this secret never has.",
    "api_dlq": "Invoked synchronously by API Gateway: a failure is answered to the caller (the error body); "
    "an asynchronous dead-letter queue would never receive anything.",
    "reconcile_dlq": "Failed runs go to the ReconcileFailures queue through the on-failure destination "
    "(EventInvokeConfig), which keeps the error with the event; a dead-letter queue would duplicate it.",
    "vpc": "No private resources to reach: DynamoDB and Secrets Manager are called through their "
    "IAM-authenticated endpoints and Stripe over the internet; a VPC would only add a NAT gateway to run.",
    "environment_cmk": "The environment holds no secrets (the Stripe keys live in Secrets Manager, the "
    "functions get its ARN) and Lambda encrypts it at rest with the AWS managed key.",
    "api_cache": "Answers must not be cached by the gateway: perks change with each Stripe event and answers "
    "depend on the caller's key; storefronts cache eligibility themselves (<= 60 s, valid_until).",
    "logs_cmk": "CloudWatch Logs encrypts every log group at rest; the lines carry no secrets, keys or card "
    "data (never logged), so a customer managed key would add cost, not protection.",
    "queue_sse": "Encrypted at rest with SQS managed server-side encryption (SSE-SQS); the check recognises "
    "KMS keys only.",
    "delivery_dlq": "Invoked by event source mappings (the outbox stream, the delivery queue), whose own "
    "failure handling applies: partial batch failures, the queue's redrive to the dead-letter queue and the "
    "stream mapping's on-failure destination; an asynchronous dead-letter queue would never receive "
    "anything.",
}


def skip_checks(resource: cdk.CfnResource, reasons: dict[str, str]) -> None:
    """Suppress checkov checks on one resource, each with the reason it does not apply."""
    resource.add_metadata(
        "checkov", {"skip": [{"id": check, "comment": why} for check, why in reasons.items()]}
    )


class PackagedChalice(Chalice):
    """Chalice's CDK construct, deploying the prebuilt `make package` zip instead of Chalice's own zip."""

    def __init__(self, scope: Construct, construct_id: str, *, package: Path, **kwargs: object) -> None:
        self.package = package
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]

    def _package_app(self) -> None:
        # Chalice writes the SAM template and its own zip; packaging also sets the stage's variables in
        # os.environ (as on Lambda), which must not leak into the process that synthesizes.
        saved = dict(os.environ)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # offline: Chalice wants a region, no more
        try:
            super()._package_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        shutil.copyfile(self.package, os.path.join(self._sam_package_dir, "deployment.zip"))


_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
_PROJECTIONS = {"KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY, "ALL": dynamodb.ProjectionType.ALL}


class VipRewardsStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, config: StageConfig, package: Path, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        prefix = f"vip-{config.stage}"
        self.log_groups: list[logs.LogGroup] = []
        self.tables = {spec.name: self._table(spec, prefix, config) for spec in TABLES}
        self.stripe_secret = secretsmanager.Secret(
            self, "StripeSecret", secret_name=f"{prefix}/stripe",
            description='Stripe keys: {"api_key": "sk_...", "webhook_secret": "whsec_a,whsec_b"}',
            removal_policy=cdk.RemovalPolicy.RETAIN if config.production else cdk.RemovalPolicy.DESTROY,
        )  # fmt: skip
        self._delivery_queues()
        role = self._role(config)
        self.deliveries.grant_send_messages(role)
        app = PackagedChalice(
            self, "App", source_dir=str(ROOT), package=package,
            stage_config={
                "lambda_architecture": package_architecture(package),
                "xray": config.tracing,
                "reserved_concurrency": config.reserved_concurrency,
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
                    # Replays queue deliveries from the API; the delivery functions consume them.
                    "DELIVERY_QUEUE_URL": self.deliveries.queue_url,
                    "DELIVERY_DLQ_URL": self.dead_deliveries.queue_url,
                    # The brand's storefront origins (CORS, shopper URLs): `-c storefront_origins=https://a,https://b`.
                    "STOREFRONT_ORIGINS": str(self.node.try_get_context("storefront_origins") or ""),
                },
            },
        )  # fmt: skip
        self._api(app, config)
        failures = self._reconcile_failures(app, config, role)
        self._delivery(app, config)
        self._alarms(app, config, failures)
        self._checkov_exceptions(app, failures)

    def _api(self, app: Chalice, config: StageConfig) -> None:
        """Throttling, execution logs (errors only, never bodies), JSON access logs, X-Ray."""
        api = app.sam_template.get_resource("RestAPI")
        api.add_property_override(
            "MethodSettings",
            [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": config.throttle_rate,
              "ThrottlingBurstLimit": config.throttle_burst, "MetricsEnabled": True,
              "LoggingLevel": "ERROR", "DataTraceEnabled": False}],
        )  # fmt: skip
        # A throttled request never reaches the function, a timed-out one never gets its answer: API
        # Gateway answers them itself, in the contract's shape.
        for response_type, answer in GATEWAY_ANSWERS.items():
            headers = {"gatewayresponse.header.Content-Type": "'application/json'"}
            if answer.retry_after is not None:
                headers["gatewayresponse.header.Retry-After"] = f"'{answer.retry_after}'"
            apigateway.CfnGatewayResponse(
                self, response_type.title().replace("_", ""), rest_api_id=api.ref,
                response_type=response_type, status_code=answer.status, response_parameters=headers,
                response_templates={"application/json": answer.body()},
            )  # fmt: skip
        access_logs = logs.LogGroup(self, "ApiAccessLogs", retention=config.log_retention)
        self.log_groups.append(access_logs)
        api.add_property_override(
            "AccessLogSetting",
            {"DestinationArn": access_logs.log_group_arn, "Format": json.dumps(ACCESS_LOG_FORMAT)},
        )
        api.add_property_override("TracingEnabled", config.tracing)
        # API Gateway writes logs through one role per account and region (the first stack sets it; a
        # second stage in the same account sets the same thing again).
        logs_role = iam.Role(
            self, "ApiGatewayLogsRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs")],
        )  # fmt: skip
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=logs_role.role_arn)
        api.add_dependency(account)  # the stage's logging needs the account's role first

    def _reconcile_failures(self, app: Chalice, config: StageConfig, role: iam.Role) -> sqs.Queue:
        """A failed hourly run is retried, then kept in a queue (with the error) and alarmed on."""
        queue = sqs.Queue(
            self, "ReconcileFailures", retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
        )  # fmt: skip
        queue.grant_send_messages(role)
        function = app.sam_template.get_resource(SCHEDULE_HANDLER)
        function.add_property_override(
            "EventInvokeConfig",
            {"MaximumRetryAttempts": RECONCILE_RETRIES, "MaximumEventAgeInSeconds": 3600,
             "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": queue.queue_arn}}},
        )  # fmt: skip
        # One run at a time: a slow run is never overlapped by the next hour's.
        function.add_property_override("ReservedConcurrentExecutions", 1)
        # Its own timeout: it walks shoppers while one more fits, each call within the API's budgets.
        # (Chalice's per-function setting loses to the stage's lambda_timeout given to the construct.)
        function.add_property_override("Timeout", RECONCILE_TIMEOUT_SECONDS)
        self.log_groups.append(logs.LogGroup(
            self, "ReconcileLogs", log_group_name=cdk.Fn.join("", ["/aws/lambda/", function.ref]),
            retention=config.log_retention,
        ))  # fmt: skip
        return queue

    def _delivery_queues(self) -> None:
        """One SQS message per endpoint × event; after the last attempt (or repeated crashes) the DLQ."""
        self.dead_deliveries = sqs.Queue(
            self, "WebhookDeliveriesDLQ", retention_period=cdk.Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
        )  # fmt: skip
        self.deliveries = sqs.Queue(
            self, "WebhookDeliveries", retention_period=cdk.Duration.days(4),
            # AWS's advice for Lambda consumers: six times the function's timeout.
            visibility_timeout=cdk.Duration.seconds(6 * DELIVERY_TIMEOUT_SECONDS),
            encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
            # The worker counts attempts itself and sends the last failure here; the redrive only catches
            # a message whose handling keeps crashing.
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_deliveries, max_receive_count=DELIVERY_RECEIVES),
        )  # fmt: skip

    def _delivery(self, app: Chalice, config: StageConfig) -> None:
        """The outbox stream feeds fan-out, the queue the worker: their own least-privilege role."""
        events = self.tables["events"]
        role = iam.Role(self, "DeliveryRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        # pynamodb describes each table once per container before its first call.
        reads = {"events": ["GetItem", "DescribeTable"],
                 "webhook-endpoints": ["GetItem", "Scan", "DescribeTable"],
                 "webhook-deliveries": ["GetItem", "PutItem", "UpdateItem", "DescribeTable"]}  # fmt: skip
        for name, actions in reads.items():
            role.add_to_policy(iam.PolicyStatement(
                actions=[f"dynamodb:{action}" for action in actions], resources=[self.tables[name].table_arn],
            ))  # fmt: skip
        assert events.table_stream_arn is not None
        role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                     "dynamodb:ListStreams"],
            resources=[events.table_stream_arn],
        ))  # fmt: skip
        self.deliveries.grant_consume_messages(role)
        self.deliveries.grant_send_messages(role)
        self.dead_deliveries.grant_send_messages(role)
        if config.tracing:
            role.add_to_policy(iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"],
            ))  # fmt: skip
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:/aws/lambda/*"],
        ))  # fmt: skip
        for handler in (FAN_OUT_HANDLER, DELIVERY_HANDLER):
            function = app.sam_template.get_resource(handler)
            function.add_property_override("Role", role.role_arn)
            function.add_property_override("Timeout", DELIVERY_TIMEOUT_SECONDS)
            self.log_groups.append(logs.LogGroup(
                self, f"{handler}Logs", log_group_name=cdk.Fn.join("", ["/aws/lambda/", function.ref]),
                retention=config.log_retention,
            ))  # fmt: skip
        fan_out = app.sam_template.get_resource(FAN_OUT_HANDLER)
        deliver = app.sam_template.get_resource(DELIVERY_HANDLER)
        stream_mapping = lambda_.CfnEventSourceMapping(
            self, "OutboxStream", function_name=fan_out.ref, event_source_arn=events.table_stream_arn,
            starting_position="TRIM_HORIZON", batch_size=100, maximum_batching_window_in_seconds=0,
            function_response_types=["ReportBatchItemFailures"], bisect_batch_on_function_error=True,
            maximum_retry_attempts=FAN_OUT_RETRIES, maximum_record_age_in_seconds=-1,
            destination_config=lambda_.CfnEventSourceMapping.DestinationConfigProperty(
                on_failure=lambda_.CfnEventSourceMapping.OnFailureProperty(
                    destination=self.dead_deliveries.queue_arn)),
        )  # fmt: skip
        queue_mapping = lambda_.CfnEventSourceMapping(
            self, "DeliveryQueue", function_name=deliver.ref, event_source_arn=self.deliveries.queue_arn,
            batch_size=10, maximum_batching_window_in_seconds=0,
            function_response_types=["ReportBatchItemFailures"],
        )  # fmt: skip
        # The mappings read with the role, so it must exist (with its policy) first.
        for mapping in (stream_mapping, queue_mapping):
            mapping.node.add_dependency(role)
        self.delivery_role = role

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
            stream=dynamodb.StreamViewType(spec.stream) if spec.stream else None,
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
        if config.tracing:
            # X-Ray has no resource-level permissions: these two actions take "*" only.
            role.add_to_policy(iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"],
            ))  # fmt: skip
        role.add_to_policy(iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[f"arn:{cdk.Aws.PARTITION}:logs:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:log-group:/aws/lambda/*"],
        ))  # fmt: skip
        return role

    def _alarms(self, app: Chalice, config: StageConfig, reconcile_failures: sqs.Queue) -> None:
        api_function = app.sam_template.get_resource(API_HANDLER)
        schedule_function = app.sam_template.get_resource(SCHEDULE_HANDLER)
        log_group = logs.LogGroup(
            self, "ApiLogs", log_group_name=cdk.Fn.join("", ["/aws/lambda/", api_function.ref]),
            retention=config.log_retention,
        )  # fmt: skip
        self.log_groups.append(log_group)
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
        delivery_functions = [
            (h, app.sam_template.get_resource(h)) for h in (FAN_OUT_HANDLER, DELIVERY_HANDLER)
        ]
        for name, function in (("Api", api_function), ("Reconcile", schedule_function), *delivery_functions):
            cloudwatch.Metric(
                namespace="AWS/Lambda", metric_name="Errors", statistic="Sum", period=period,
                dimensions_map={"FunctionName": function.ref},
            ).create_alarm(self, f"{name}LambdaErrors", threshold=1, evaluation_periods=1,
                           comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                           alarm_description=f"The {name} function raised (crash or timeout).")  # fmt: skip
        reconcile_failures.metric_approximate_number_of_messages_visible(period=period).create_alarm(
            self, "ReconcileFailuresAlarm", threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="An hourly reconciliation failed after its retries; the event is in the queue.",
        )  # fmt: skip
        oldest = self.deliveries.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum")
        oldest.create_alarm(
            self, "WebhookDeliveryAge", threshold=3600, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="A webhook delivery has waited over an hour: a receiver is failing or delivery "
            "is stuck (see the endpoint's deliveries).",
        )  # fmt: skip
        self.dead_deliveries.metric_approximate_number_of_messages_visible(period=period).create_alarm(
            self, "WebhookDeadLetters", threshold=1, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            alarm_description="Webhook deliveries failed for good (or fan-out failed): replay once fixed.",
        )  # fmt: skip
        fan_out = app.sam_template.get_resource(FAN_OUT_HANDLER)
        cloudwatch.Metric(
            namespace="AWS/Lambda", metric_name="IteratorAge", statistic="Maximum", period=period,
            dimensions_map={"FunctionName": fan_out.ref},
        ).create_alarm(self, "OutboxIteratorAge", threshold=300_000, evaluation_periods=1,
                       comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                       alarm_description="An event waits over 5 min for fan-out.")  # fmt: skip
        for spec_name, table in self.tables.items():
            cloudwatch.Metric(
                namespace="AWS/DynamoDB", metric_name="ThrottledRequests", statistic="Sum", period=period,
                dimensions_map={"TableName": table.table_name},
            ).create_alarm(self, f"Throttles-{spec_name}", threshold=1, evaluation_periods=1,
                           comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                           alarm_description=f"DynamoDB throttled requests on {spec_name}.")  # fmt: skip

    def _checkov_exceptions(self, app: Chalice, reconcile_failures: sqs.Queue) -> None:
        """Checkov findings that do not apply here, each suppressed with its reason (WHY_NOT)."""
        for table in self.tables.values():
            skip_checks(_cfn(table), {"CKV_AWS_119": WHY_NOT["table_cmk"]})
        skip_checks(_cfn(self.stripe_secret), {"CKV_AWS_149": WHY_NOT["secret_cmk"]})
        for name, dead_letters in (
            (API_HANDLER, "api_dlq"),
            (SCHEDULE_HANDLER, "reconcile_dlq"),
            (FAN_OUT_HANDLER, "delivery_dlq"),
            (DELIVERY_HANDLER, "delivery_dlq"),
        ):
            skip_checks(app.sam_template.get_resource(name), {
                "CKV_AWS_116": WHY_NOT[dead_letters], "CKV_AWS_117": WHY_NOT["vpc"],
                "CKV_AWS_173": WHY_NOT["environment_cmk"],
            })  # fmt: skip
        skip_checks(app.sam_template.get_resource("RestAPI"), {"CKV_AWS_120": WHY_NOT["api_cache"]})
        for log_group in self.log_groups:
            skip_checks(_cfn(log_group), {"CKV_AWS_158": WHY_NOT["logs_cmk"]})
        for queue in (reconcile_failures, self.deliveries, self.dead_deliveries):
            skip_checks(_cfn(queue), {"CKV_AWS_27": WHY_NOT["queue_sse"]})


def _cfn(construct: Construct) -> cdk.CfnResource:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnResource)
    return child
