"""The brand's webhook endpoints: register, change, rotate secrets, see deliveries, replay; browse events."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from chalicelib import clock
from chalicelib.domain.events import Event, subscribed, unknown_types
from chalicelib.errors import NotFoundError, ValidationError
from chalicelib.outbound import queue
from chalicelib.outbound.urls import UnsafeUrlError, check_url
from chalicelib.services.event_delivery import allow_loopback
from chalicelib.store import events as outbox
from chalicelib.store import webhook_endpoints as store
from chalicelib.store.webhook_endpoints import Delivery, Endpoint, SigningSecret

# A rotated-out secret keeps signing (beside the new one) this long.
ROTATION_OVERLAP = timedelta(hours=24)
SECRET_BYTES = 32
# What one replay may queue (a longer window is replayed in several calls).
MAX_REPLAY = 1000

EndpointStatus = Literal["enabled", "disabled"]


class WebhookEndpoint(msgspec.Struct, kw_only=True):
    id: str
    url: str
    events: list[str]
    status: EndpointStatus
    description: str | None
    created_at: datetime


class CreatedWebhookEndpoint(WebhookEndpoint, kw_only=True):
    # Shown only in this answer (and by rotate_secret).
    secret: str


class EndpointList(msgspec.Struct):
    data: list[WebhookEndpoint]
    has_more: bool


class DeliveryList(msgspec.Struct):
    data: list[Delivery]
    has_more: bool


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes (Standard Webhooks' format)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _view(endpoint: Endpoint) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=endpoint.endpoint_id,
        url=endpoint.url,
        events=list(endpoint.events),
        status="enabled" if endpoint.enabled else "disabled",
        description=endpoint.description,
        created_at=endpoint.created_at,
    )


def _checked_url(url: str) -> str:
    try:
        check_url(url, allow_loopback=allow_loopback())
    except UnsafeUrlError as exc:
        raise ValidationError(str(exc), param="url", code="invalid_url") from exc
    return url


def _checked_events(events: list[str]) -> list[str]:
    unknown = unknown_types(events)
    if unknown:
        raise ValidationError(
            f"Unknown event type(s): {', '.join(unknown)}. See GET /v1/openapi.json for the catalog.",
            param="events",
            code="unknown_event_type",
        )
    if not events:
        raise ValidationError('Name at least one event type, or "*".', param="events")
    return sorted(set(events))


def create_endpoint(url: str, events: list[str], description: str | None) -> CreatedWebhookEndpoint:
    """Register an endpoint; its secret is returned here once."""
    chosen = _checked_events(events)
    _checked_url(url)
    if len(store.list_endpoints()) >= store.MAX_ENDPOINTS:
        raise ValidationError(f"At most {store.MAX_ENDPOINTS} endpoints; delete one first.", param="url")
    now = clock.now()
    secret = new_secret()
    endpoint = Endpoint(
        endpoint_id="we_" + secrets.token_hex(12), url=url, events=tuple(chosen), enabled=True,
        description=description, created_at=now, updated_at=now, secrets=(SigningSecret(secret),),
    )  # fmt: skip
    store.create_endpoint(endpoint)
    return CreatedWebhookEndpoint(**msgspec.structs.asdict(_view(endpoint)), secret=secret)


def _endpoint(endpoint_id: str) -> Endpoint:
    found = store.get_endpoint(endpoint_id)
    if found is None:
        raise NotFoundError(
            f"No webhook endpoint {endpoint_id}.", param="id", code="webhook_endpoint_not_found"
        )
    return found


def get_endpoint(endpoint_id: str) -> WebhookEndpoint:
    return _view(_endpoint(endpoint_id))


def list_endpoints(limit: int, starting_after: str | None) -> tuple[list[WebhookEndpoint], bool]:
    """Endpoints, oldest first; the cursor is an endpoint id."""
    views = [_view(e) for e in store.list_endpoints()]
    if starting_after is not None:
        ids = [v.id for v in views]
        if starting_after not in ids:
            raise ValidationError(f"No webhook endpoint {starting_after}.", param="starting_after")
        views = views[ids.index(starting_after) + 1 :]
    return views[:limit], len(views) > limit


def update_endpoint(
    endpoint_id: str,
    *,
    url: str | None = None,
    events: list[str] | None = None,
    status: EndpointStatus | None = None,
    description: str | None = None,
    clear_description: bool = False,
) -> WebhookEndpoint:
    current = _endpoint(endpoint_id)
    changed = Endpoint(
        endpoint_id=current.endpoint_id,
        url=_checked_url(url) if url is not None else current.url,
        events=tuple(_checked_events(events)) if events is not None else current.events,
        enabled=(status == "enabled") if status is not None else current.enabled,
        description=None
        if clear_description
        else (description if description is not None else current.description),
        created_at=current.created_at,
        updated_at=clock.now(),
        secrets=current.secrets,
    )
    store.save_endpoint(changed)
    return _view(changed)


def delete_endpoint(endpoint_id: str) -> None:
    _endpoint(endpoint_id)
    store.delete_endpoint(endpoint_id)


def rotate_secret(endpoint_id: str) -> str:
    """A new secret; the current one keeps signing beside it for `ROTATION_OVERLAP`."""
    current = _endpoint(endpoint_id)
    now = clock.now()
    expires = int((now + ROTATION_OVERLAP).timestamp())
    kept = [
        SigningSecret(s.secret, s.expires_at if s.expires_at is not None else expires)
        for s in current.secrets
        if s.expires_at is None or s.expires_at > now.timestamp()
    ]
    secret = new_secret()
    store.save_endpoint(
        Endpoint(
            endpoint_id=current.endpoint_id, url=current.url, events=current.events, enabled=current.enabled,
            description=current.description, created_at=current.created_at, updated_at=now,
            secrets=(SigningSecret(secret), *kept[:1]),
        )
    )  # fmt: skip
    return secret


def list_deliveries(
    endpoint_id: str, limit: int, status: str | None, starting_after: str | None
) -> tuple[list[Delivery], bool]:
    _endpoint(endpoint_id)
    return store.list_deliveries(endpoint_id, limit=limit, status=status, starting_after=starting_after)


def replay(
    endpoint_id: str,
    *,
    event_ids: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send events again to one endpoint (same `webhook-id`), whatever their earlier outcome; how many."""
    endpoint = _endpoint(endpoint_id)
    now = clock.now()
    chosen: list[Event] = []
    if event_ids is not None:
        for event_id in dict.fromkeys(event_ids):
            event = outbox.get_event(event_id)
            if event is None:
                raise ValidationError(f"No event {event_id} (events are kept 30 days).", param="event_ids")
            chosen.append(event)
    else:
        assert since is not None
        if until is not None and until < since:
            raise ValidationError("`until` is before `since`.", param="until")
        found, more = outbox.list_events(limit=MAX_REPLAY, now=now, since=since, until=until)
        if more:
            raise ValidationError(
                f"More than {MAX_REPLAY} events in this window; replay a shorter one.", param="since"
            )
        chosen = [e for e in found if subscribed(endpoint.events, e.type)]
    for event in chosen:
        store.requeue_delivery(endpoint_id, event.id, event.type, now)
    queue.send_deliveries([(endpoint_id, event.id) for event in chosen])
    return len(chosen)


def list_events(
    *,
    limit: int,
    type: str | None,
    customer_ref: str | None,
    since: datetime | None,
    starting_after: str | None,
) -> tuple[list[Event], bool]:
    if type is not None and unknown_types([type]):
        raise ValidationError(f"Unknown event type {type}.", param="type", code="unknown_event_type")
    if starting_after is not None and outbox.get_event(starting_after) is None:
        raise ValidationError(f"No event {starting_after}.", param="starting_after")
    return outbox.list_events(
        limit=limit, now=clock.now(), type=type, customer_ref=customer_ref, since=since,
        starting_after=starting_after,
    )  # fmt: skip
