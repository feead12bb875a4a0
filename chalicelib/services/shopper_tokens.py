"""Shopper tokens: short-lived JWTs that let a browser act for one shopper on `/v1/shopper/*` only.

HS256 through PyJWT (pure Python, no `cryptography` needed for HMAC, ~70 KB in the package; joserfc
requires `cryptography`, several MB, over the Lambda package budget). Verification pins the algorithm
list to `["HS256"]` (so `alg: none` and RS/HS confusion are refused by the library), requires `kid`,
`aud`, `sub`, `iat` and `exp`, and picks the key by `kid` among the configured ones, so a key can be
rotated with an overlap: the first key signs, every listed key verifies (docs/storefront.md).
Locally the keys come from SHOPPER_TOKEN_KEYS (a fixed key on the local stage); deployed, from the
Stripe secret in Secrets Manager (`shopper_token_keys`), re-read every few minutes so a rotation
reaches warm containers without a deploy. Where the keys come from is one `KeySource`, read from the
settings at import; `use_key_source` is the one place that points the service elsewhere (tests).
PyJWT is imported on first use (cold start).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import msgspec

from chalicelib import aws, budget, clock
from chalicelib.domain.catalog import ID_PATTERN
from chalicelib.errors import AuthenticationError, UpstreamError
from chalicelib.services.cache import TtlCache
from chalicelib.settings import Settings, settings

AUDIENCE = "vip-rewards-shopper"
ALGORITHM = "HS256"
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 900
DEFAULT_TTL_SECONDS = 600
# Clocks of the brand's server, Lambda and the browser differ a little.
LEEWAY_SECONDS = 30
KEYS_TTL_SECONDS = 300


class ShopperToken(msgspec.Struct, frozen=True):
    token: str
    expires_at: datetime


class ShopperClaims(msgspec.Struct, frozen=True):
    """A verified token: the shopper it speaks for and the key that signed it."""

    customer_ref: str
    kid: str


_CUSTOMER_REF = re.compile(ID_PATTERN)
_keys: TtlCache[str, tuple[tuple[str, str], ...]] = TtlCache(KEYS_TTL_SECONDS)


def parse_keys(listing: str) -> tuple[tuple[str, str], ...]:
    """`kid:secret,kid:secret` → ((kid, secret), ...); the first pair signs."""
    keys = []
    for entry in listing.split(","):
        kid, _, secret = entry.strip().partition(":")
        if kid and secret:
            keys.append((kid, secret))
    return tuple(keys)


class KeySource(msgspec.Struct, frozen=True):
    """Where the signing keys come from: `keys` when given, else the Stripe secret `secret_arn`."""

    keys: tuple[tuple[str, str], ...]
    secret_arn: str | None
    # The time budget the Secrets Manager call is made within (`chalicelib.budget`).
    lambda_timeout_seconds: float
    stripe_max_network_retries: int

    @classmethod
    def from_settings(cls, source: Settings) -> KeySource:
        return cls(
            keys=source.shopper_token_keys,
            secret_arn=source.stripe_secret_arn,
            lambda_timeout_seconds=source.lambda_timeout_seconds,
            stripe_max_network_retries=source.stripe_max_network_retries,
        )


_source = KeySource.from_settings(settings)


@contextmanager
def use_key_source(source: KeySource) -> Iterator[KeySource]:
    """Read the signing keys from `source` until the block ends, then from the configured one again."""
    global _source
    previous = _source
    _source = source
    invalidate_cache()
    try:
        yield source
    finally:
        _source = previous
        invalidate_cache()


def key_source() -> KeySource:
    """Where the service reads its signing keys."""
    return _source


def _load_keys() -> tuple[tuple[str, str], ...]:
    source = key_source()
    if source.secret_arn and not source.keys:
        import json

        limits = budget.derive(source.lambda_timeout_seconds, source.stripe_max_network_retries).dynamodb
        secret = aws.client("secretsmanager", limits).get_secret_value(SecretId=source.secret_arn)
        return parse_keys(str(json.loads(secret["SecretString"]).get("shopper_token_keys", "")))
    return source.keys


def signing_keys() -> tuple[tuple[str, str], ...]:
    """The configured (kid, secret) pairs; 503 when none is configured (the deployment is incomplete)."""
    keys = _keys.get_or_load("keys", _load_keys)
    if not keys:
        raise UpstreamError(
            "Shopper tokens are not configured (no signing key).", code="shopper_tokens_not_configured"
        )
    return keys


def mint(
    customer_ref: str, ttl_seconds: int = DEFAULT_TTL_SECONDS, now: datetime | None = None
) -> ShopperToken:
    """A token for `customer_ref` that expires after `ttl_seconds` (60–900)."""
    import jwt

    kid, secret = signing_keys()[0]
    issued = int((now or clock.now()).timestamp())
    expires = issued + ttl_seconds
    claims = {"aud": AUDIENCE, "sub": customer_ref, "iat": issued, "exp": expires}
    token = jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": kid})
    return ShopperToken(token, datetime.fromtimestamp(expires, tz=UTC))


def _refused(reason: str) -> AuthenticationError:
    return AuthenticationError(
        f"Invalid shopper token: {reason}.", param="Authorization", code="invalid_shopper_token"
    )


def verify(token: str) -> ShopperClaims:
    """The shopper behind a token; 401 for anything not signed by a configured key for this audience,
    expired (beyond a small leeway) or without a subject."""
    import jwt

    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise _refused("not a JWT") from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise _refused(f"the algorithm must be {ALGORITHM}")
    secret = dict(signing_keys()).get(kid) if isinstance(kid, str) else None
    if secret is None:
        raise _refused("unknown key id")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            leeway=LEEWAY_SECONDS,
            options={"require": ["aud", "sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _refused("expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise _refused("wrong audience") from exc
    except jwt.InvalidTokenError as exc:
        raise _refused("bad signature or claims") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _CUSTOMER_REF.match(subject):
        raise _refused("no subject")
    return ShopperClaims(subject, kid)  # type: ignore[arg-type]


def invalidate_cache() -> None:
    """Forget the cached keys (tests; a rotation reaches warm containers within KEYS_TTL_SECONDS)."""
    _keys.invalidate()
