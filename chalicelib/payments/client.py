"""One StripeClient per container, built on first use, with the API version pinned.

Everything the client is built from is one `StripeConfig`, read from the settings at import. `use_stripe`
is the one place that points the service at another Stripe (tests: a closed port, a hung server, a wrong
key); nothing else changes how the client is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import msgspec

from chalicelib import aws, budget
from chalicelib.errors import ConflictError, InternalError, UpstreamError, ValidationError
from chalicelib.log import get_logger
from chalicelib.settings import Settings, settings

if TYPE_CHECKING:
    from stripe import StripeClient

# The API version this code reads objects in; webhook endpoints must be registered with it too.
STRIPE_API_VERSION = "2026-10-28.endive"

log = get_logger("payments")


class StripeConfig(msgspec.Struct, frozen=True):
    """Where Stripe is, how we prove who we are, and how long a call to it may take."""

    api_key: str | None
    webhook_secrets: tuple[str, ...]
    # Deployed: the API key and webhook secrets come from this Secrets Manager secret instead.
    secret_arn: str | None
    # None: Stripe's own API; locally and in tests, the emulator.
    api_base: str | None
    lambda_timeout_seconds: float
    max_network_retries: int

    @classmethod
    def from_settings(cls, source: Settings) -> StripeConfig:
        return cls(
            api_key=source.stripe_api_key,
            webhook_secrets=source.stripe_webhook_secrets,
            secret_arn=source.stripe_secret_arn,
            api_base=source.stripe_api_base,
            lambda_timeout_seconds=source.lambda_timeout_seconds,
            max_network_retries=source.stripe_max_network_retries,
        )

    @property
    def budget(self) -> budget.Budget:
        """The time budget Stripe calls are made within (`chalicelib.budget`)."""
        return budget.derive(self.lambda_timeout_seconds, self.max_network_retries)


_config = StripeConfig.from_settings(settings)


def stripe_config() -> StripeConfig:
    """The Stripe the service talks to."""
    return _config


@contextmanager
def use_stripe(config: StripeConfig) -> Iterator[StripeConfig]:
    """Talk to the Stripe `config` describes until the block ends, then to the configured one again.

    The client and credentials are built anew on either side, as in a fresh container.
    """
    global _config
    previous = _config
    _config = config
    _forget_clients()
    try:
        yield config
    finally:
        _config = previous
        _forget_clients()


def _forget_clients() -> None:
    stripe_credentials.cache_clear()
    stripe_client.cache_clear()


@cache
def stripe_credentials() -> tuple[str, tuple[str, ...]]:
    """(API key, webhook secrets): from the environment locally, from Secrets Manager when deployed.

    Read once per container; a rotated secret reaches new containers (deploy or restart to force it).
    """
    config = stripe_config()
    if config.secret_arn:
        import json

        # The container's shared botocore session, waiting on AWS as long as a DynamoDB call may.
        limits = config.budget.dynamodb
        secret = aws.client("secretsmanager", limits).get_secret_value(SecretId=config.secret_arn)
        values = json.loads(secret["SecretString"])
        secrets = tuple(s.strip() for s in str(values.get("webhook_secret", "")).split(",") if s.strip())
        return str(values["api_key"]), secrets
    if not config.api_key:
        raise UpstreamError(
            "Stripe is not configured (STRIPE_API_KEY is unset).", code="stripe_not_configured"
        )
    return config.api_key, config.webhook_secrets


@cache
def stripe_client() -> StripeClient:
    """Timeouts and retries from the time budget: a hung Stripe costs at most `limits.worst_case`."""
    import stripe

    config = stripe_config()
    api_key, _ = stripe_credentials()
    base: dict[str, str] = {}
    if config.api_base:
        base = {"api": config.api_base}
    limits = config.budget.stripe
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
