"""Environment → one typed Settings object. Every setting is read here and nowhere else.

The environment is read once, at import: pynamodb reads table names from model `Meta` when the
models are imported, so tests set the environment before importing `app`.
"""

from __future__ import annotations

import os

import msgspec

# How long Lambda lets the API and the scheduled job run: infra deploys the functions with it and every
# timeout and retry in `chalicelib.budget` is derived from it. Change it here and nowhere else.
LAMBDA_TIMEOUT_SECONDS = 20
# The hourly reconciliation's own Lambda timeout: its Stripe and DynamoDB calls keep the budgets above, the
# run walks shoppers for as long as this leaves time for one more (`services.reconcile`).
RECONCILE_TIMEOUT_SECONDS = 300
# The webhook delivery functions' Lambda timeout: a batch's attempts run at once, each within 15 s.
DELIVERY_TIMEOUT_SECONDS = 60


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"setting {name} must be an integer, got {raw!r}") from exc


def _bounded(name: str, default: int, low: int, high: int) -> int:
    value = _int(name, default)
    if not low <= value <= high:
        raise RuntimeError(f"setting {name} must be between {low} and {high}, got {value}")
    return value


def _optional(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


class Settings(msgspec.Struct, frozen=True):
    stage: str
    aws_region: str
    table_prefix: str
    # Set only for local runs and tests (moto server); None means the real AWS endpoint.
    dynamodb_host: str | None
    stripe_api_key: str | None
    # Comma-separated list so a secret can be rotated without downtime.
    stripe_webhook_secrets: tuple[str, ...]
    # Secrets Manager secret holding {"api_key": ..., "webhook_secret": ...} in deployed stages.
    stripe_secret_arn: str | None
    # Emulator URL for local runs; None means api.stripe.com.
    stripe_api_base: str | None
    stripe_max_network_retries: int
    grace_days: int
    # Referrals: how long a friend's first payment must stand before the referrer is credited, and the cap.
    referral_hold_days: int
    referral_max_per_year: int
    renewal_leeway_hours: int
    default_cause_id: str | None
    # A cause's oldest undisbursed pledge is overdue after this many days (payouts report, events).
    payout_due_days: int
    cache_ttl_seconds: int
    idempotency_ttl_hours: int
    stripe_event_ttl_days: int
    reconcile_batch_size: int
    # Write sharding (store/shards.py): items each running total is spread over, and buckets of the
    # reconcile index. Both may grow at any time; lowering one needs `ops.rebuild_totals --write` first.
    totals_shards: int
    reconcile_buckets: int
    log_level: str
    # The Lambda function timeout (LAMBDA_TIMEOUT_SECONDS above, which infra deploys): every Stripe and
    # DynamoDB timeout derives from it (chalicelib/budget.py); bounds idempotency leases locally.
    lambda_timeout_seconds: int
    # Bearer tokens remembered per container (known and unknown ones), least recently used evicted.
    api_key_cache_size: int
    # How long an unknown bearer token is remembered as unknown (a key minted meanwhile works after it).
    unknown_key_ttl_seconds: int
    # Outbound webhooks: the SQS queue of deliveries and its dead-letter queue (deployed stages); None
    # locally, where both are found by name on the local stack (`chalicelib.outbound.queue`).
    delivery_queue_url: str | None = None
    delivery_dead_letter_queue_url: str | None = None

    # Origins whose pages may call the shopper API, the offer and the kit from a browser (CORS), and the only
    # places a shopper's checkout and portal URLs may lead (no open redirect).
    storefront_origins: tuple[str, ...] = ()
    # Shopper-token signing keys as (kid, secret), the first signs and all verify (rotation with an overlap).
    # Locally from SHOPPER_TOKEN_KEYS (a fixed key on the local stage); deployed, from the Stripe secret.
    shopper_token_keys: tuple[tuple[str, str], ...] = ()

    def table_name(self, name: str) -> str:
        return f"{self.table_prefix}-{name}"


# The local stage's storefront origins (`make dev`'s API and demo store) and its fixed, public signing key.
LOCAL_STOREFRONT_ORIGINS = (
    "http://127.0.0.1:8000,http://localhost:8000,http://127.0.0.1:3000,http://localhost:3000"
)
# Public on purpose: the local stage only (a deployed stage reads its keys from Secrets Manager).
LOCAL_SHOPPER_TOKEN_KEYS = "local-1:vip-local-shopper-token-key-not-a-secret"  # noqa: S105


def _list(name: str, default: str = "") -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, default).split(",") if part.strip())


def _token_keys(stage: str) -> tuple[tuple[str, str], ...]:
    keys = []
    for entry in _list("SHOPPER_TOKEN_KEYS", LOCAL_SHOPPER_TOKEN_KEYS if stage == "local" else ""):
        kid, _, secret = entry.partition(":")
        if not kid or len(secret) < 32:
            raise RuntimeError(
                "setting SHOPPER_TOKEN_KEYS must be kid:secret pairs with secrets of 32+ chars"
            )
        keys.append((kid, secret))
    return tuple(keys)


def load_settings() -> Settings:
    secrets = tuple(s.strip() for s in os.environ.get("STRIPE_WEBHOOK_SECRET", "").split(",") if s.strip())
    cache_ttl = _int("CACHE_TTL_SECONDS", 60)
    if not 0 <= cache_ttl <= 60:
        raise RuntimeError("setting CACHE_TTL_SECONDS must be between 0 and 60 (the contract's bound)")
    return Settings(
        stage=os.environ.get("STAGE", "local"),
        aws_region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        table_prefix=os.environ.get("TABLE_PREFIX", "vip-local"),
        dynamodb_host=_optional("DYNAMODB_HOST"),
        stripe_api_key=_optional("STRIPE_API_KEY"),
        stripe_webhook_secrets=secrets,
        stripe_secret_arn=_optional("STRIPE_SECRET_ARN"),
        stripe_api_base=_optional("STRIPE_API_BASE"),
        stripe_max_network_retries=_int("STRIPE_MAX_NETWORK_RETRIES", 1),
        grace_days=_int("GRACE_DAYS", 3),
        referral_hold_days=_int("REFERRAL_HOLD_DAYS", 14),
        referral_max_per_year=_int("REFERRAL_MAX_PER_YEAR", 12),
        renewal_leeway_hours=_int("RENEWAL_LEEWAY_HOURS", 48),
        default_cause_id=_optional("DEFAULT_CAUSE_ID"),
        payout_due_days=_int("PAYOUT_DUE_DAYS", 90),
        cache_ttl_seconds=cache_ttl,
        idempotency_ttl_hours=_int("IDEMPOTENCY_TTL_HOURS", 24),
        stripe_event_ttl_days=_int("STRIPE_EVENT_TTL_DAYS", 35),
        reconcile_batch_size=_int("RECONCILE_BATCH_SIZE", 200),
        totals_shards=_bounded("TOTALS_SHARDS", 16, 1, 100),
        reconcile_buckets=_bounded("RECONCILE_BUCKETS", 16, 1, 100),
        log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        lambda_timeout_seconds=_int("LAMBDA_TIMEOUT_SECONDS", LAMBDA_TIMEOUT_SECONDS),
        api_key_cache_size=_int("API_KEY_CACHE_SIZE", 1000),
        unknown_key_ttl_seconds=_int("UNKNOWN_KEY_TTL_SECONDS", 5),
        delivery_queue_url=_optional("DELIVERY_QUEUE_URL"),
        delivery_dead_letter_queue_url=_optional("DELIVERY_DLQ_URL"),
        storefront_origins=_list(
            "STOREFRONT_ORIGINS",
            LOCAL_STOREFRONT_ORIGINS if os.environ.get("STAGE", "local") == "local" else "",
        ),
        shopper_token_keys=_token_keys(os.environ.get("STAGE", "local")),
    )


settings = load_settings()
