"""What every table shares: region, endpoint, billing mode, one connection and its time budget; and
error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from functools import cache
from typing import Any, Literal

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
from chalicelib.settings import settings

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


def dynamodb_client(patience: Patience | None = None) -> Any:
    """The container's DynamoDB client for the current request's patience (built once per limits)."""
    limits = budget.derive(settings.lambda_timeout_seconds, settings.stripe_max_network_retries)
    chosen = limits.dynamodb_eligibility if (patience or PATIENCE.get()) == "eligibility" else limits.dynamodb
    return aws.client("dynamodb", chosen, endpoint_url=settings.dynamodb_host)


class SharedConnection(Connection):
    """pynamodb's connection, talking through the container's shared botocore client."""

    @property
    def client(self) -> Any:
        return dynamodb_client()


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
    from chalicelib.store.idempotency import IdempotencyRecord
    from chalicelib.store.ledger import DonationTotalsRecord, LedgerEntryRecord, OrderRecord
    from chalicelib.store.members import MemberRecord
    from chalicelib.store.program import ProgramRecord

    models: list[type] = [
        ApiKeyRecord,
        CatalogRecord,
        IdempotencyRecord,
        MemberRecord,
        LedgerEntryRecord,
        OrderRecord,
        DonationTotalsRecord,
        ProgramRecord,
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
# botocore failures that are ours to fix (credentials, a malformed call), not the network's.
_PERMANENT_BOTOCORE = (NoCredentialsError, PartialCredentialsError, ParamValidationError)


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code (None for failures that never got an answer, such as timeouts)."""
    # pynamodb's own `cause_response_code` raises for causes without a response (botocore timeouts).
    return exc.cause_response_code if isinstance(exc.cause, ClientError) else None


def is_transient(exc: PynamoDBException) -> bool:
    """Whether a retry of the same call may succeed (throttled, unreachable, too slow)."""
    cause = exc.cause
    if isinstance(cause, _PERMANENT_BOTOCORE):
        return False
    if isinstance(cause, BotoCoreError):
        # Connection-level failures wrapped by pynamodb: refused, reset, timed out.
        return True
    code = error_code(exc) or ""
    if code in _TRANSIENT_CODES:
        return True
    if isinstance(exc, TransactWriteError) and code == "TransactionCanceledException":
        reasons = {reason.code for reason in exc.cancellation_reasons if reason is not None}
        return bool(reasons) and reasons <= _TRANSIENT_REASONS | {"None"}
    return False


@contextmanager
def storage_errors() -> Iterator[None]:
    """Translate what escapes a DynamoDB call into our errors, at the store's boundary.

    Transient failures become a 503 the client may retry; anything else (an item over 400 KB, a
    missing table, refused credentials) is a permanent 500: logged with the request id, not retried.
    """
    try:
        yield
    except PynamoDBException as exc:
        if is_transient(exc):
            logger.warning(
                "dynamodb unavailable", extra={"error": type(exc).__name__, "code": error_code(exc)}
            )
            raise ServiceUnavailableError("The database is unavailable or busy; retry shortly.") from exc
        logger.error(
            "dynamodb refused a request",
            extra={"error": type(exc).__name__, "code": error_code(exc), "detail": str(exc)},
        )  # fmt: skip
        raise StorageFailedError("The database refused the request; it has been logged.") from exc
    except _PERMANENT_BOTOCORE as exc:
        logger.error("dynamodb call not possible", extra={"error": type(exc).__name__})
        raise StorageFailedError("The database could not be called; it has been logged.") from exc


# The name services used before the store translated its own errors.
translate_storage_errors = storage_errors
