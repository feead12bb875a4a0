"""Stripe's webhook endpoint: verify the signature on the raw body, parse the event, apply it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec
from chalice.app import Blueprint

from chalicelib import clock, log
from chalicelib.api import lazy
from chalicelib.api.routing import PUBLIC, Call, Example, check_depth, check_media_type, endpoint
from chalicelib.errors import ApiError

if TYPE_CHECKING:
    from chalicelib.payments.events import parse_event
    from chalicelib.payments.webhooks import verify_delivery
    from chalicelib.services.stripe_events import apply_stripe_event
    from chalicelib.services.unit_of_work import on_dynamodb
else:  # imported by the first delivery (api/lazy.py)
    parse_event = lazy.function("chalicelib.payments.events", "parse_event")
    verify_delivery = lazy.function("chalicelib.payments.webhooks", "verify_delivery")
    apply_stripe_event = lazy.function("chalicelib.services.stripe_events", "apply_stripe_event")
    on_dynamodb = lazy.function("chalicelib.services.unit_of_work", "on_dynamodb")

webhooks_api = Blueprint(__name__)
logger = log.get_logger("webhooks")


class StripeEvent(msgspec.Struct):
    """A Stripe event's envelope, for the OpenAPI document; the route verifies and reads the raw bytes."""

    id: str
    type: str
    data: dict[str, Any]
    object: str = "event"
    api_version: str | None = None
    created: int = 0
    livemode: bool = False


class WebhookReceived(msgspec.Struct):
    received: bool
    result: Literal["applied", "duplicate", "ignored", "unknown_customer"]


@endpoint(
    webhooks_api, "POST", "/v1/webhooks/stripe", summary="Stripe webhook events", tag="webhooks",
    roles=PUBLIC, response=WebhookReceived, errors=(400, 415, 500, 502, 503), idempotent=False,
    body=StripeEvent, raw_body=True,
    example=Example(
        request={
            "id": "evt_1SVaJ2LkdIwHu7ixQ2m3",
            "object": "event",
            "type": "invoice.paid",
            "api_version": "2026-10-28.endive",
            "created": 1795424400,
            "livemode": False,
            "data": {
                "object": {"id": "in_1SVaJ2LkdIwHu7ix", "object": "invoice", "customer": "cus_TQ2lY8oWb3kG"}
            },
        },
        response={"received": True, "result": "applied"},
    ),
    description="Authenticated by the `Stripe-Signature` header: exactly one timestamp `t`, within 300 s "
    "of now either way, and a `v1` HMAC of the raw body under one of the configured secrets; anything "
    "else (several `t`, no `v1`, ...) is 400 (the header given twice: 400 `repeated_header`), and the body "
    "is not read before the signature checks out: an unsigned request learns nothing about its shape. "
    "A signed body that is not a well-formed event of a handled "
    "type is 400 naming the field, and nothing is written; other event types are 200 `ignored`. "
    "2xx once handled; 5xx only for transient failures, so Stripe retries.",
)  # fmt: skip
def stripe_webhook(call: Call[Any, Any]) -> WebhookReceived:
    # The signature first: nothing of an unsigned body is parsed, and no error describes its shape.
    verify_delivery(call.raw_body, call.headers.get("stripe-signature"), clock.epoch_seconds())
    check_media_type(call.headers, call.raw_body)
    check_depth(call.raw_body)
    event = parse_event(call.raw_body)
    try:
        result = apply_stripe_event(event, on_dynamodb())
    except ApiError as exc:
        if exc.status >= 500:
            logger.error("stripe event failed", extra={"error": exc.code, "detail": exc.message})
        raise
    except Exception:
        logger.exception("stripe event failed")
        raise
    return WebhookReceived(received=True, result=result)  # type: ignore[arg-type]
