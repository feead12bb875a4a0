"""What every table shares: region, endpoint, billing mode, timeouts; and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from botocore.exceptions import BotoCoreError
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException, TransactWriteError

from chalicelib.errors import ServiceUnavailableError
from chalicelib.settings import settings


class BaseMeta:
    region = settings.aws_region
    host = settings.dynamodb_host
    billing_mode = "PAY_PER_REQUEST"
    # Fail fast inside a Lambda invocation rather than hanging until API Gateway's 29 s limit.
    connect_timeout_seconds = 2
    read_timeout_seconds = 5
    max_retry_attempts = 3


@cache
def transaction_connection() -> Connection:
    """The connection `TransactWrite` uses (one per container, configured like the models)."""
    return Connection(
        region=BaseMeta.region,
        host=BaseMeta.host,
        connect_timeout_seconds=BaseMeta.connect_timeout_seconds,
        read_timeout_seconds=BaseMeta.read_timeout_seconds,
        max_retry_attempts=BaseMeta.max_retry_attempts,
    )


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

    models: list[type] = [
        ApiKeyRecord,
        CatalogRecord,
        IdempotencyRecord,
        MemberRecord,
        LedgerEntryRecord,
        OrderRecord,
        DonationTotalsRecord,
    ]
    return models


@contextmanager
def translate_storage_errors() -> Iterator[None]:
    """Turn DynamoDB outages into a 503 the client may retry, never a stack trace."""
    try:
        yield
    except PynamoDBConnectionError as exc:
        raise ServiceUnavailableError("The database is unreachable; retry shortly.") from exc
    except PynamoDBException as exc:
        code = exc.cause_response_code or ""
        if "Throttling" in code or "ProvisionedThroughputExceeded" in code or "RequestLimitExceeded" in code:
            raise ServiceUnavailableError("The database is busy; retry shortly.") from exc
        if isinstance(exc.cause, BotoCoreError):
            # Connection-level failures (timeouts, refused connections) wrapped by pynamodb.
            raise ServiceUnavailableError("The database is unreachable; retry shortly.") from exc
        raise
