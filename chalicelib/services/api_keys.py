"""API keys: minting (secret shown once), revoking, and authenticating a request's bearer token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Literal

import msgspec

from chalicelib import clock
from chalicelib.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from chalicelib.services.cache import TtlCache
from chalicelib.settings import settings
from chalicelib.store import api_keys as store

# "shopper" is no key's role: a verified shopper token acts as that shopper on `/v1/shopper/*` only.
Role = Literal["storefront", "brand", "shopper"]
ROLES: tuple[Role, ...] = ("storefront", "brand")


class Caller(msgspec.Struct, frozen=True):
    key_id: str
    role: Role
    name: str


class MintedKey(msgspec.Struct, frozen=True):
    key_id: str
    role: Role
    name: str
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_id_for(secret: str) -> str:
    """A key's id is derived from its secret, so authenticating is one GetItem and no index."""
    return "key_" + hash_secret(secret)[:24]


# Known keys are cached for the TTL (a revoked key stops working within it, ≤ 60 s); unknown tokens for
# a few seconds, so a flood of one bad token costs one read, and LRU-bounded, so many cannot grow memory.
_callers: TtlCache[str, Caller | None] = TtlCache(
    settings.cache_ttl_seconds,
    max_entries=settings.api_key_cache_size,
    ttl_of=lambda caller: (
        settings.cache_ttl_seconds if caller is not None else settings.unknown_key_ttl_seconds
    ),
)


def _load_caller(secret: str) -> Caller | None:
    record = store.get_key(key_id_for(secret))
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(record.key_hash, hash_secret(secret)):
        return None
    return Caller(record.key_id, record.role, record.name)


def authenticate(authorization: str | None) -> Caller:
    """The caller behind an `Authorization: Bearer <key>` header; 401 when missing or unknown."""
    if not authorization:
        raise AuthenticationError(
            "Missing API key: send `Authorization: Bearer <key>`.",
            param="Authorization",
            code="missing_api_key",
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError("Authorization must be `Bearer <key>`.", param="Authorization")
    caller = _callers.get_or_load(hash_secret(token), lambda: _load_caller(token))
    if caller is None:
        raise AuthenticationError("Unknown or revoked API key.", param="Authorization")
    return caller


def authenticate_shopper(authorization: str | None) -> Caller:
    """The shopper behind `Authorization: Bearer <shopper token>` (`name` is their customer_ref); 401 for
    anything else, API keys included: these routes have no other way to know the shopper."""
    from chalicelib.services import shopper_tokens

    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationError(
            "Missing shopper token: send `Authorization: Bearer <shopper token>`.",
            param="Authorization",
            code="missing_shopper_token",
        )
    claims = shopper_tokens.verify(token)
    return Caller(f"shopper:{claims.customer_ref}", "shopper", claims.customer_ref)


def invalidate_cache() -> None:
    """Forget cached key checks in this container (tests; revocation elsewhere waits for the TTL)."""
    _callers.invalidate()


def require_role(caller: Caller, allowed: tuple[Role, ...]) -> None:
    """403 when a known key's role may not use this endpoint (`brand` may use everything)."""
    if caller.role not in allowed:
        raise PermissionDeniedError(
            f"A {caller.role} key cannot use this endpoint; it needs {' or '.join(allowed)}."
        )


def mint_key(role: Role, name: str, secret: str | None = None) -> MintedKey:
    """Create a key. The secret is returned here once and stored only as a hash.

    `secret` is for fixed local keys; production keys are always random.
    """
    secret = secret or f"vip_{role[:2]}_{secrets.token_urlsafe(32)}"
    key_id = key_id_for(secret)
    store.create_key(key_id, hash_secret(secret), role, name, clock.now())
    _callers.invalidate(hash_secret(secret))
    return MintedKey(key_id, role, name, secret)


def revoke_key(key_id: str) -> None:
    """Revoke a key; other containers notice within the cache TTL."""
    found = store.revoke_key(key_id, clock.now())
    if not found:
        raise NotFoundError(f"No API key {key_id}.", param="key_id", code="api_key_not_found")
    _callers.invalidate()
