"""What every table shares: region, endpoint, billing mode, one connection and its time budget; and
error translation.

The connection's endpoint and time budget are one `DynamoConfig`, read from the settings at import;
`use_dynamodb` is the one place that points the service's DynamoDB client elsewhere (tests: a hung server).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cache
from typing import Any, Literal

import msgspec
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import PynamoDBException, TableError, TransactWriteError
from pynamodb.models import Model

from chalicelib import aws, budget, log
from chalicelib.errors import InternalError, ServiceUnavailableError
from chalicelib.settings import Settings, settings

logger = log.get_logger("store")

Patience = Literal["standard", "eligibility"]
# How long the current request may wait on DynamoDB: the eligibility hot path gives up after 1 s.
PATIENCE: ContextVar[Patience] = ContextVar("dynamodb_patience", default="standard")


class StorageFailedError(InternalError):
    """DynamoDB refused a call for good (validation, missing table, access): retrying will not help."""

    default_code = "storage_error"


class BaseMeta:
    region = settings.aws_region
    host = settings.dynamodb_host
    billing_mode = "PAY_PER_REQUEST"
    # Timeouts and retries are not set here: every model uses `shared_connection()`, whose client
    # follows `chalicelib.budget`.


class DynamoConfig(msgspec.Struct, frozen=True):
    """Where the service's DynamoDB client connects and the time budget its calls are made within."""

    # None: AWS's endpoint for the region; locally and in tests, the moto server.
    host: str | None
    lambda_timeout_seconds: float
    stripe_max_network_retries: int

    @classmethod
    def from_settings(cls, source: Settings) -> DynamoConfig:
        return cls(
            host=source.dynamodb_host,
            lambda_timeout_seconds=source.lambda_timeout_seconds,
            stripe_max_network_retries=source.stripe_max_network_retries,
        )


_config = DynamoConfig.from_settings(settings)


def dynamodb_config() -> DynamoConfig:
    """The DynamoDB the service's client talks to."""
    return _config


@contextmanager
def use_dynamodb(config: DynamoConfig) -> Iterator[DynamoConfig]:
    """Send the service's DynamoDB calls as `config` says until the block ends, then as configured again.

    Clients are built once per (endpoint, limits), so each side of the block keeps its own.
    """
    global _config
    previous = _config
    _config = config
    try:
        yield config
    finally:
        _config = previous


def dynamodb_client(patience: Patience | None = None) -> Any:
    """The container's DynamoDB client for the current request's patience (built once per limits)."""
    config = dynamodb_config()
    limits = budget.derive(config.lambda_timeout_seconds, config.stripe_max_network_retries)
    chosen = limits.dynamodb_eligibility if (patience or PATIENCE.get()) == "eligibility" else limits.dynamodb
    return aws.client("dynamodb", chosen, endpoint_url=config.host)


class SharedConnection(Connection):
    """pynamodb's connection, talking through the container's shared botocore client.

    Every DynamoDB call of the service passes here, so this is where storage failures become our
    errors: a transient one a 503 worth a retry, anything else a permanent 500. Only the answers the
    store itself reads (a condition it set did not hold; a transaction it sent was cancelled, with a
    reason per item) reach the store as pynamodb's exceptions, and the store turns them into its own.
    """

    @property
    def client(self) -> Any:
        return dynamodb_client()

    def _make_api_call(self, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            result: dict[str, Any] = super()._make_api_call(operation_name, operation_kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            # `Model.exists()` (table creation in local runs) reads a missing table as False.
            if code in _STORE_DECIDES or (operation_name, code) == (
                "DescribeTable",
                "ResourceNotFoundException",
            ):
                raise
            raise translated(exc, operation=operation_name) from exc
        except BotoCoreError as exc:
            raise translated(exc, operation=operation_name) from exc
        return result


@cache
def shared_connection() -> SharedConnection:
    """The one DynamoDB connection of the container: every model and every `TransactWrite` use it."""
    return SharedConnection(region=settings.aws_region, host=settings.dynamodb_host)


def transaction_connection() -> Connection:
    """The connection `TransactWrite` uses: the shared one."""
    return shared_connection()


class BaseModel(Model):
    """Every table's model: pynamodb's, on the shared connection (no botocore session of its own)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        shared = shared_connection()
        if table.connection is not shared:
            try:
                shared.get_meta_table(table.table_name)
            except TableError:
                with suppress(ValueError):  # another thread added it first
                    shared.add_meta_table(table.connection.get_meta_table(table.table_name))
            table.connection = shared
        return table


def cancellation_codes(error: TransactWriteError) -> list[str | None]:
    """Per transaction item, why DynamoDB refused it (`ConditionalCheckFailed`, ...) or None."""
    return [reason.code if reason is not None else None for reason in error.cancellation_reasons]


def all_models() -> list[type]:
    """Every pynamodb model of the service (table creation in local runs, the infra drift test)."""
    from chalicelib.store.api_keys import ApiKeyRecord
    from chalicelib.store.catalog import CatalogRecord
    from chalicelib.store.events import EventRecord
    from chalicelib.store.giving import GivingRecord
    from chalicelib.store.idempotency import IdempotencyRecord
    from chalicelib.store.ledger import LedgerEntryRecord
    from chalicelib.store.members import MemberRecord
    from chalicelib.store.orders import OrderRecord
    from chalicelib.store.program import ProgramRecord
    from chalicelib.store.totals import DonationTotalsRecord
    from chalicelib.store.webhook_endpoints import DeliveryRecord, WebhookEndpointRecord

    models: list[type] = [
        ApiKeyRecord,
        CatalogRecord,
        IdempotencyRecord,
        MemberRecord,
        LedgerEntryRecord,
        OrderRecord,
        DonationTotalsRecord,
        ProgramRecord,
        EventRecord,
        WebhookEndpointRecord,
        DeliveryRecord,
        GivingRecord,
    ]
    return models


# DynamoDB answers worth retrying: throttling, its own transient faults, another writer in the way.
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)
_TRANSIENT_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})
# What the store reads itself (see `SharedConnection`).
_STORE_DECIDES = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
# botocore failures that are ours to fix (credentials, a malformed call), not the network's.
_PERMANENT_BOTOCORE = (NoCredentialsError, PartialCredentialsError, ParamValidationError)


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code (None for failures that never got an answer, such as timeouts)."""
    # pynamodb's own `cause_response_code` raises for causes without a response (botocore timeouts).
    return exc.cause_response_code if isinstance(exc.cause, ClientError) else None


def _is_transient(cause: BaseException, reasons: frozenset[str] = frozenset()) -> bool:
    if isinstance(cause, _PERMANENT_BOTOCORE):
        return False
    if isinstance(cause, BotoCoreError):
        # Connection-level failures: refused, reset, timed out.
        return True
    code = cause.response.get("Error", {}).get("Code", "") if isinstance(cause, ClientError) else ""
    if code in _TRANSIENT_CODES:
        return True
    if code == "TransactionCanceledException":
        return bool(reasons) and reasons <= _TRANSIENT_REASONS | {"None"}
    return False


def is_transient(exc: PynamoDBException) -> bool:
    """Whether a retry of the same call may succeed (throttled, unreachable, too slow)."""
    reasons = frozenset(
        reason.code for reason in getattr(exc, "cancellation_reasons", None) or [] if reason is not None
    )
    return _is_transient(exc.cause if exc.cause is not None else exc, reasons)


def translated(
    cause: BaseException, *, operation: str | None = None
) -> InternalError | ServiceUnavailableError:
    """Our error for a storage failure, logged: 503 when a retry may succeed, else a permanent 500.

    A permanent failure (an item over 400 KB, a missing table, refused credentials) is logged with the
    request id, which the 500's body carries.
    """
    detail = cause.cause if isinstance(cause, PynamoDBException) and cause.cause is not None else cause
    code = detail.response.get("Error", {}).get("Code") if isinstance(detail, ClientError) else None
    transient = is_transient(cause) if isinstance(cause, PynamoDBException) else _is_transient(cause)
    if transient:
        logger.warning(
            "dynamodb unavailable",
            extra={"error": type(detail).__name__, "code": code, "operation": operation},
        )
        return ServiceUnavailableError("The database is unavailable or busy; retry shortly.")
    logger.error(
        "dynamodb refused a request",
        extra={"error": type(detail).__name__, "code": code, "operation": operation, "detail": str(detail)},
    )
    return StorageFailedError("The database refused the request; it has been logged.")


@contextmanager
def storage_errors() -> Iterator[None]:
    """Translate what the store let through after reading it (a cancelled transaction it does not
    recognise, a condition it did not expect) into our errors; see `translated`."""
    try:
        yield
    except PynamoDBException as exc:
        raise translated(exc) from exc
