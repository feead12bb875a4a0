"""What every table shares: region, endpoint, billing mode, timeouts; and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBConnectionError, PynamoDBException

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


def all_models() -> list[type]:
    """Every pynamodb model of the service (table creation in local runs, the infra drift test)."""
    from chalicelib.store.api_keys import ApiKeyRecord
    from chalicelib.store.catalog import CatalogRecord
    from chalicelib.store.idempotency import IdempotencyRecord
    from chalicelib.store.members import MemberRecord

    models: list[type] = [ApiKeyRecord, CatalogRecord, IdempotencyRecord, MemberRecord]
    return models


@contextmanager
def translate_storage_errors() -> Iterator[None]:
    """Turn DynamoDB outages into a 503 the client may retry, never a stack trace."""
    try:
        yield
    except PynamoDBConnectionError as exc:
        raise ServiceUnavailableError("The database is unreachable; retry shortly.") from exc
    except PynamoDBException as exc:
        if "ThrottlingException" in str(exc) or "ProvisionedThroughputExceeded" in str(exc):
            raise ServiceUnavailableError("The database is busy; retry shortly.") from exc
        raise
