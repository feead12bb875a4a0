"""Verifying Stripe's webhook signatures on the raw request body."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.errors import ValidationError
from chalicelib.payments.client import stripe_credentials

# Stripe's default; applied in both directions (a future-dated signature is as suspect as a stale one).
TOLERANCE_SECONDS = 300


class InvalidSignatureError(ValidationError):
    default_code = "invalid_signature"


def verify_event(payload: bytes, header: str | None, now: int) -> dict[str, Any]:
    """The event of a signed delivery, or InvalidSignatureError / ValidationError (400).

    Every configured secret is tried, so a secret can be rotated without downtime. The timestamp
    must be within 300 s of `now` either way; stripe-python checks only the past direction.
    """
    import stripe

    if not header:
        raise InvalidSignatureError("The Stripe-Signature header is missing.", param="Stripe-Signature")
    timestamp = _timestamp(header)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignatureError(
            "The Stripe-Signature timestamp is more than 300 s from now.", param="Stripe-Signature"
        )
    _, secrets = stripe_credentials()
    text = payload.decode("utf-8", errors="replace")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise InvalidSignatureError(
            "No valid Stripe-Signature for this payload and the configured secrets.", param="Stripe-Signature"
        )
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise ValidationError("The event is not valid JSON.", code="invalid_json") from exc
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance((event.get("data") or {}).get("object"), dict)
        or not isinstance(event.get("type"), str)
    ):
        raise ValidationError("The event lacks `id`, `type` or `data.object`.", param="data.object")
    return event


def _timestamp(header: str) -> int:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise InvalidSignatureError(
        "The Stripe-Signature header has no valid timestamp.", param="Stripe-Signature"
    )
