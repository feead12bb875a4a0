"""The outbox: every outbound event, written in its fact's own transaction (`events` table).

The table's DynamoDB Stream (new images) feeds delivery (`services.event_delivery`); the API lists
events from two sparse indexes, newest first. Items expire after `EVENT_RETENTION` (TTL), well after
the 30 days the contract keeps them listable.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import msgspec
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.domain.conflicts import EventIdTakenError
from chalicelib.domain.events import Event, created_millis
from chalicelib.domain.times import from_epoch
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors
from chalicelib.store.transaction import Transaction

# Listable for 30 days (SPEC); kept a little longer so a replay window at the edge still finds them.
EVENT_RETENTION = timedelta(days=35)
LISTED_DAYS = 31


class EventsByDay(GlobalSecondaryIndex["EventRecord"]):  # type: ignore[no-untyped-call]
    """Every event, one partition per UTC day, in id (= creation) order."""

    class Meta:
        index_name = "by-day"
        projection = AllProjection()

    day = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)


class EventsByCustomer(GlobalSecondaryIndex["EventRecord"]):  # type: ignore[no-untyped-call]
    """Sparse: a shopper's events in id order (brand events have no `customer_ref`)."""

    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_ref = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)


class EventRecord(BaseModel):
    class Meta(BaseMeta):
        table_name = settings.table_name("events")
        # Delivery reads each new event from the stream.
        stream_view_type = "NEW_IMAGE"

    event_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    customer_ref = UnicodeAttribute(null=True)
    sequence = NumberAttribute(null=True)
    day = UnicodeAttribute()
    # The event exactly as receivers get it (the signed bytes).
    body = UnicodeAttribute()
    expires_at = TTLAttribute()
    by_day = EventsByDay()
    by_customer = EventsByCustomer()


def encode(event: Event) -> str:
    return msgspec.json.encode(event).decode()


def record_of(event: Event) -> EventRecord:
    return EventRecord(
        event.id,
        type=event.type,
        created_at=event.created_at,
        customer_ref=event.customer_ref,
        sequence=event.sequence,
        day=event.created_at.strftime("%Y-%m-%d"),
        body=encode(event),
        expires_at=event.created_at + EVENT_RETENTION,
    )


def add_event(transaction: Transaction, event: Event) -> None:
    """Add `event` to a fact's transaction: it commits with the fact or not at all, and only once.

    The does-not-exist condition on the event id makes a transaction that would write the same event
    twice fail as a whole, as `EventIdTakenError` (a lost race: decide again, with new ids).
    """
    transaction.put(
        record_of(event),
        condition=EventRecord.event_id.does_not_exist(),
        on_conflict=lambda _old: EventIdTakenError(event.id),
    )


def put_event(event: Event) -> None:
    """Write one event on its own (brand events without a member fact; tests)."""
    transaction = Transaction()
    add_event(transaction, event)
    transaction.commit()


def event_from_body(body: str) -> Event:
    return msgspec.json.decode(body, type=Event)


def get_event(event_id: str) -> Event | None:
    with storage_errors():
        try:
            return event_from_body(EventRecord.get(event_id, consistent_read=True).body)
        except EventRecord.DoesNotExist:
            return None


def list_events(
    *,
    limit: int,
    now: datetime,
    type: str | None = None,
    customer_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    starting_after: str | None = None,
) -> tuple[list[Event], bool]:
    """Events newest first (at most `limit`, and whether more follow), filtered by type, shopper, time."""
    oldest = now - timedelta(days=LISTED_DAYS)
    since = max(since, oldest) if since is not None else oldest
    found: list[Event] = []
    for record in _newest_first(now, customer_ref, since, until, starting_after, type):
        if record.event_id == starting_after:
            continue
        found.append(event_from_body(record.body))
        if len(found) > limit:
            break
    return found[:limit], len(found) > limit


def _newest_first(
    now: datetime,
    customer_ref: str | None,
    since: datetime,
    until: datetime | None,
    starting_after: str | None,
    type: str | None,
) -> Iterator[EventRecord]:
    lowest = f"evt_{int(since.timestamp() * 1000):012x}"
    highest = starting_after or f"evt_{int((until or now).timestamp() * 1000) + 1:012x}"
    if lowest > highest:  # a window that ends before it starts holds nothing
        return
    condition_filter = EventRecord.type == type if type is not None else None
    with storage_errors():
        if customer_ref is not None:
            yield from EventRecord.by_customer.query(
                customer_ref,
                EventRecord.event_id.between(lowest, highest),
                filter_condition=condition_filter,
                scan_index_forward=False,
            )
            return
        day = from_epoch(created_millis(highest) // 1000) if starting_after else (until or now)
        while day.date() >= since.date():
            yield from EventRecord.by_day.query(
                day.strftime("%Y-%m-%d"),
                EventRecord.event_id.between(lowest, highest),
                filter_condition=condition_filter,
                scan_index_forward=False,
            )
            day -= timedelta(days=1)


def cursor_is_known(event_id: str) -> bool:
    return get_event(event_id) is not None
