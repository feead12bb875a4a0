"""Verifying Stripe's webhook signatures on the raw request body, exactly as Stripe signs.

Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and sends
`Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`: comma-separated `key=value`
parts, the key compared exactly (as Stripe's libraries do). The timestamp checked against the
tolerance is the very one the signature covers; a header that could be read two ways is refused.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from chalicelib.errors import ValidationError
from chalicelib.payments.client import stripe_credentials

# Stripe's default; applied in both directions (a future-dated signature is as suspect as a stale one).
TOLERANCE_SECONDS = 300
HEADER = "Stripe-Signature"
SCHEME = "v1"


class InvalidSignatureError(ValidationError):
    default_code = "invalid_signature"


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    timestamp: int
    signatures: tuple[str, ...]


def parse_signature_header(header: str | None) -> SignatureHeader:
    """The one timestamp and the `v1` signatures of a header, or InvalidSignatureError.

    Refused as ambiguous: a part that is not `key=value`, a key that is `t` or `v1` only once
    surrounding spaces are removed, more than one `t`, a `t` that is not plain digits, no `v1`.
    """
    if not header:
        raise _invalid("The Stripe-Signature header is missing.")
    timestamps: list[str] = []
    signatures: list[str] = []
    for part in header.split(","):
        key, equals, value = part.partition("=")
        if not equals or not key:
            raise _invalid("Every part of the Stripe-Signature header must be `key=value`.")
        if key != key.strip() and key.strip() in ("t", SCHEME):
            raise _invalid(f"The Stripe-Signature header has an ambiguous `{key.strip()}` part.")
        if key == "t":
            timestamps.append(value)
        elif key == SCHEME:
            signatures.append(value)
    if len(timestamps) != 1:
        raise _invalid("The Stripe-Signature header must carry exactly one timestamp `t`.")
    (timestamp,) = timestamps
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise _invalid("The Stripe-Signature timestamp `t` must be whole Unix seconds.")
    if not signatures:
        raise _invalid("The Stripe-Signature header has no `v1` signature.")
    return SignatureHeader(int(timestamp), tuple(signatures))


def signature(payload: bytes, timestamp: int, secret: str) -> str:
    """Stripe's `v1` signature of a payload signed at `timestamp`."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_signature(payload: bytes, header: str | None, now: int, secrets: tuple[str, ...]) -> None:
    """Raise InvalidSignatureError unless one configured secret signed `payload` within 300 s of `now`."""
    parsed = parse_signature_header(header)
    if abs(now - parsed.timestamp) > TOLERANCE_SECONDS:
        raise _invalid("The Stripe-Signature timestamp is more than 300 s from now.")
    for secret in secrets:
        expected = signature(payload, parsed.timestamp, secret)
        if any(hmac.compare_digest(expected, given) for given in parsed.signatures):
            return
    raise _invalid("No valid Stripe-Signature for this payload and the configured secrets.")


def verify_delivery(payload: bytes, header: str | None, now: int) -> None:
    """Verify against every configured secret (comma-separated setting), so a secret can be rotated."""
    _, secrets = stripe_credentials()
    verify_signature(payload, header, now, secrets)


def _invalid(message: str) -> InvalidSignatureError:
    return InvalidSignatureError(message, param=HEADER)
