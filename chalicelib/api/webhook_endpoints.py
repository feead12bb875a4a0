"""Outbound events (brand key): webhook endpoints, their deliveries and replays, and the events themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from chalice.app import Blueprint
from msgspec import Meta

from chalicelib.api import lazy
from chalicelib.api.routing import BRAND, Call, Example, Reply, endpoint
from chalicelib.api.schemas import ListQuery
from chalicelib.domain.cart import Moment
from chalicelib.domain.catalog import ClientId, Text, Url
from chalicelib.domain.events import EVENT_TYPES, Event
from chalicelib.domain.patterns import whole
from chalicelib.domain.times import parse_rfc3339
from chalicelib.errors import ValidationError

if TYPE_CHECKING:
    from chalicelib.services import webhook_endpoints as service
    from chalicelib.services.webhook_endpoints import (
        CreatedWebhookEndpoint,
        DeliveryList,
        EndpointList,
        WebhookEndpoint,
    )
else:  # imported by the first request that needs them (api/lazy.py)
    service = lazy.module("chalicelib.services.webhook_endpoints")
    CreatedWebhookEndpoint = lazy.declared("chalicelib.services.webhook_endpoints", "CreatedWebhookEndpoint")
    DeliveryList = lazy.declared("chalicelib.services.webhook_endpoints", "DeliveryList")
    EndpointList = lazy.declared("chalicelib.services.webhook_endpoints", "EndpointList")
    WebhookEndpoint = lazy.declared("chalicelib.services.webhook_endpoints", "WebhookEndpoint")

webhook_endpoints_api = Blueprint(__name__)

EventTypes = Annotated[
    list[Annotated[str, Meta(min_length=1, max_length=64)]],
    Meta(min_length=1, max_length=len(EVENT_TYPES) + 1,
         description=f'Event types to receive, or ["*"] for all: {", ".join(EVENT_TYPES)}.'),
]  # fmt: skip


class EndpointIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    events: EventTypes
    description: Text | None = None


class EndpointPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | None = None
    events: EventTypes | None = None
    status: Literal["enabled", "disabled"] | None = None
    description: Text | None = None


class SecretOut(msgspec.Struct):
    secret: str


class DeliveryQuery(ListQuery, forbid_unknown_fields=True):
    status: Literal["pending", "succeeded", "failed"] | None = None


class ReplayIn(msgspec.Struct, forbid_unknown_fields=True):
    event_ids: Annotated[list[ClientId], Meta(min_length=1, max_length=100)] | None = None
    since: Moment | None = None
    until: Moment | None = None


class Queued(msgspec.Struct):
    queued: int


# Query strings are converted laxly (`limit=20` → 20), which would also read `since=0.5` as a Unix time:
# the parameter is a string in RFC 3339's shape, parsed by the route.
Since = Annotated[
    str,
    Meta(
        pattern=whole(
            "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})"
        ),
        description="RFC 3339 with an offset, e.g. 2026-11-22T21:00:00Z",
    ),
]


class EventQuery(ListQuery, forbid_unknown_fields=True):
    type: Annotated[str, Meta(max_length=64)] | None = None
    customer_ref: ClientId | None = None
    since: Since | None = None


class EventList(msgspec.Struct):
    data: list[Event]
    has_more: bool


_ENDPOINT_ID = "we_3f9a1c7d2b8e4f6a0c1d2e3f"
_ENDPOINT = {
    "id": _ENDPOINT_ID,
    "url": "https://hooks.example.com/vip",
    "events": ["member.joined", "member.ended"],
    "status": "enabled",
    "description": "Klaviyo flows",
    "created_at": "2026-11-23T09:00:00Z",
}
_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3Kq8x0o1c2E="  # noqa: S105 (a documentation example)
_PATH = {"id": _ENDPOINT_ID}
_EVENT = {
    "id": "evt_019ab3c4d5e6a1b2c3d4e5f6",
    "type": "member.joined",
    "created_at": "2026-11-23T09:00:00Z",
    "customer_ref": "shopper-42",
    "sequence": 1,
    "data": {"membership": {"customer_ref": "shopper-42", "status": "active", "plan_id": "vip-monthly"}},
}
_DELIVERY = {
    "event_id": _EVENT["id"], "type": "member.joined", "status": "pending", "attempts": 2,
    "last_attempt_at": "2026-11-23T09:00:05Z", "last_status_code": 500,
    "next_attempt_at": "2026-11-23T09:05:05Z",
}  # fmt: skip


@endpoint(
    webhook_endpoints_api, "POST", "/v1/webhook_endpoints", summary="Register a webhook endpoint",
    tag="events", roles=BRAND, body=EndpointIn, response=CreatedWebhookEndpoint, status=201, errors=(400,),
    idempotent=False,
    example=Example(
        request={"url": _ENDPOINT["url"], "events": _ENDPOINT["events"], "description": "Klaviyo flows"},
        response={**_ENDPOINT, "secret": _SECRET},
    ),
    description="`secret` signs every delivery (Standard Webhooks) and is shown only here and by "
    "`rotate_secret`, so `Idempotency-Key` replays are not offered. `url` must be `https://` and public "
    "(400 `invalid_url`); unknown types in `events` → 400 naming `events`.",
)  # fmt: skip
def create(call: Call[EndpointIn, Any]) -> CreatedWebhookEndpoint:
    return service.create_endpoint(call.body.url, call.body.events, call.body.description)


@endpoint(
    webhook_endpoints_api, "GET", "/v1/webhook_endpoints", summary="List webhook endpoints (no secrets)",
    tag="events", roles=BRAND, query=ListQuery, response=EndpointList, errors=(400,),
    example=Example(query={"limit": 20}, response={"data": [_ENDPOINT], "has_more": False}),
    description="Oldest first; `starting_after` is the last `id` of the previous page.",
)  # fmt: skip
def list_endpoints(call: Call[Any, ListQuery]) -> EndpointList:
    data, has_more = service.list_endpoints(call.query.limit, call.query.starting_after)
    return EndpointList(data=data, has_more=has_more)


@endpoint(
    webhook_endpoints_api, "GET", "/v1/webhook_endpoints/{id}", summary="A webhook endpoint (no secret)",
    tag="events", roles=BRAND, response=WebhookEndpoint, errors=(404,),
    example=Example(path=_PATH, response=_ENDPOINT),
)  # fmt: skip
def get(call: Call[Any, Any]) -> WebhookEndpoint:
    return service.get_endpoint(call.path["id"])


@endpoint(
    webhook_endpoints_api, "PATCH", "/v1/webhook_endpoints/{id}", summary="Change or disable an endpoint",
    tag="events", roles=BRAND, body=EndpointPatch, response=WebhookEndpoint, errors=(400, 404),
    example=Example(path=_PATH, request={"status": "disabled"}, response={**_ENDPOINT, "status": "disabled"}),
    description="Fields left out keep their value; the next event committed sees the change.",
)  # fmt: skip
def update(call: Call[EndpointPatch, Any]) -> WebhookEndpoint:
    body = call.body
    return service.update_endpoint(
        call.path["id"], url=body.url, events=body.events, status=body.status, description=body.description
    )


@endpoint(
    webhook_endpoints_api, "DELETE", "/v1/webhook_endpoints/{id}", summary="Delete a webhook endpoint",
    tag="events", roles=BRAND, status=204, errors=(404,), example=Example(path=_PATH),
)  # fmt: skip
def delete(call: Call[Any, Any]) -> Reply:
    service.delete_endpoint(call.path["id"])
    return Reply(None, status=204)


@endpoint(
    webhook_endpoints_api, "POST", "/v1/webhook_endpoints/{id}/rotate_secret",
    summary="Rotate the signing secret",
    tag="events", roles=BRAND, response=SecretOut, errors=(404,), idempotent=False,
    example=Example(path=_PATH, response={"secret": _SECRET}),
    description="For 24 h, deliveries carry two signatures (old and new secret), so receivers can switch "
    "without losing an event. The new secret is shown only here.",
)  # fmt: skip
def rotate_secret(call: Call[Any, Any]) -> SecretOut:
    return SecretOut(secret=service.rotate_secret(call.path["id"]))


@endpoint(
    webhook_endpoints_api, "GET", "/v1/webhook_endpoints/{id}/deliveries",
    summary="An endpoint's deliveries",
    tag="events", roles=BRAND, query=DeliveryQuery, response=DeliveryList, errors=(400, 404),
    example=Example(path=_PATH, query={"status": "pending", "limit": 20},
                    response={"data": [_DELIVERY], "has_more": False}),
    description="Newest event first; `starting_after` is the last `event_id` of the previous page.",
)  # fmt: skip
def deliveries(call: Call[Any, DeliveryQuery]) -> DeliveryList:
    query = call.query
    data, has_more = service.list_deliveries(call.path["id"], query.limit, query.status, query.starting_after)
    return DeliveryList(data=data, has_more=has_more)


@endpoint(
    webhook_endpoints_api, "POST", "/v1/webhook_endpoints/{id}/replay", summary="Send events again",
    tag="events", roles=BRAND, body=ReplayIn, response=Queued, status=202, errors=(400, 404),
    example=Example(path=_PATH, request={"event_ids": [_EVENT["id"]]}, response={"queued": 1}),
    description="`{event_ids}` or `{since, until?}` (the endpoint's types in that window, at most 1000): "
    "each is delivered again with the same `webhook-id`, whatever its earlier outcome.",
)  # fmt: skip
def replay(call: Call[ReplayIn, Any]) -> Reply:
    body = call.body
    if (body.event_ids is None) == (body.since is None):
        raise ValidationError(
            "Give either `event_ids` or `since` (with an optional `until`).", param="event_ids"
        )
    queued = service.replay(call.path["id"], event_ids=body.event_ids, since=body.since, until=body.until)
    return Reply(Queued(queued=queued), status=202)


@endpoint(
    webhook_endpoints_api, "GET", "/v1/events", summary="Events, newest first (kept 30 days)",
    tag="events", roles=BRAND, query=EventQuery, response=EventList, errors=(400,),
    example=Example(query={"type": "member.joined", "limit": 20},
                    response={"data": [_EVENT], "has_more": False}),
    description="Filters: `type`, `customer_ref`, `since`; `starting_after` is the last `id` of the "
    "previous page.",
)  # fmt: skip
def list_events(call: Call[Any, EventQuery]) -> EventList:
    query = call.query
    try:
        since = parse_rfc3339(query.since) if query.since is not None else None
    except ValueError as exc:
        raise ValidationError(f"`since` is not a valid time: {exc}.", param="since") from exc
    data, has_more = service.list_events(
        limit=query.limit, type=query.type, customer_ref=query.customer_ref, since=since,
        starting_after=query.starting_after,
    )  # fmt: skip
    return EventList(data=data, has_more=has_more)
