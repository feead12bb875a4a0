"""One StripeClient per container, built on first use, with the API version pinned."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib import aws, budget
from chalicelib.errors import ConflictError, InternalError, UpstreamError, ValidationError
from chalicelib.log import get_logger
from chalicelib.settings import settings

if TYPE_CHECKING:
    from stripe import StripeClient

# The API version this code reads objects in; webhook endpoints must be registered with it too.
STRIPE_API_VERSION = "2026-10-28.endive"

log = get_logger("payments")


@cache
def stripe_credentials() -> tuple[str, tuple[str, ...]]:
    """(API key, webhook secrets): from the environment locally, from Secrets Manager when deployed.

    Read once per container; a rotated secret reaches new containers (deploy or restart to force it).
    """
    if settings.stripe_secret_arn:
        import json

        # The container's shared botocore session, waiting on AWS as long as a DynamoDB call may.
        limits = budget.derive(settings.lambda_timeout_seconds, settings.stripe_max_network_retries).dynamodb
        secret = aws.client("secretsmanager", limits).get_secret_value(SecretId=settings.stripe_secret_arn)
        values = json.loads(secret["SecretString"])
        secrets = tuple(s.strip() for s in str(values.get("webhook_secret", "")).split(",") if s.strip())
        return str(values["api_key"]), secrets
    if not settings.stripe_api_key:
        raise UpstreamError(
            "Stripe is not configured (STRIPE_API_KEY is unset).", code="stripe_not_configured"
        )
    return settings.stripe_api_key, settings.stripe_webhook_secrets


@cache
def stripe_client() -> StripeClient:
    """Timeouts and retries from the time budget: a hung Stripe costs at most `limits.worst_case`."""
    import stripe

    api_key, _ = stripe_credentials()
    base: dict[str, str] = {}
    if settings.stripe_api_base:
        base = {"api": settings.stripe_api_base}
    limits = budget.derive(settings.lambda_timeout_seconds, settings.stripe_max_network_retries).stripe
    return stripe.StripeClient(
        api_key,
        stripe_version=STRIPE_API_VERSION,
        max_network_retries=limits.attempts - 1,
        base_addresses=base,  # type: ignore[arg-type]
        http_client=stripe.RequestsClient(timeout=(limits.connect_timeout, limits.read_timeout)),
    )


@contextmanager
def translate_stripe_errors(action: str) -> Iterator[None]:
    """Map stripe-python errors to ours at the boundary; nothing of stripe leaks upward."""
    import stripe

    try:
        yield
    except stripe.CardError as exc:
        raise UpstreamError(f"Stripe declined while trying to {action}: {exc.user_message or exc}") from exc
    except stripe.InvalidRequestError as exc:
        log.warning("stripe rejected a request", extra={"action": action, "stripe_code": exc.code})
        if exc.code == "resource_missing":
            raise ConflictError(
                f"Stripe no longer has an object needed to {action}.", code="stripe_resource_missing"
            ) from exc
        raise ValidationError(
            f"Stripe refused to {action}: {exc.user_message or exc}", param=exc.param
        ) from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        # Our key is wrong or lacks a permission: a retry cannot help, an operator must.
        log.error("stripe refused our credentials", extra={"action": action, "error": type(exc).__name__})
        raise InternalError(f"The service could not {action}: its Stripe credentials were refused.") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        log.warning("stripe unavailable", extra={"action": action, "error": type(exc).__name__})
        raise UpstreamError(f"Stripe is unavailable; could not {action}. Nothing was changed.") from exc
    except stripe.StripeError as exc:
        log.error("stripe error", extra={"action": action, "error": type(exc).__name__})
        raise UpstreamError(f"Stripe failed to {action}.") from exc


def as_dict(obj: Any) -> dict[str, Any]:
    """A StripeObject as plain nested dicts (stripe-python 16 objects are not dicts)."""
    result: dict[str, Any] = obj.to_dict()
    return result
