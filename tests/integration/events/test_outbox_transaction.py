"""On DynamoDB: `uow.events.add` makes the event one more item of its fact's TransactWriteItems."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.conflicts import EventIdTakenError, StaleMemberError
from chalicelib.domain.events import MEMBER_JOINED, Event
from chalicelib.domain.member import Member
from chalicelib.services import catalog
from chalicelib.store.events import get_event
from chalicelib.store.unit_of_work import DynamoUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def joined(event_id: str, sequence: int = 1) -> Event:
    return Event(id=event_id, type=MEMBER_JOINED, created_at=NOW, customer_ref="ada", sequence=sequence,
                 data={"membership": {"customer_ref": "ada", "status": "active"}})  # fmt: skip


def test_the_event_and_its_fact_commit_together() -> None:
    uow = DynamoUnitOfWork(catalog)
    with uow:
        uow.members.add(Member("ada"), NOW)
        uow.events.add(joined("evt_019ab000000000000000a1"))
        uow.commit()
    assert get_event("evt_019ab000000000000000a1") == joined("evt_019ab000000000000000a1")
    assert uow.members.get("ada") is not None


def test_a_stale_fact_writes_no_event() -> None:
    uow = DynamoUnitOfWork(catalog)
    with uow:
        uow.members.add(Member("ada"), NOW)
        uow.commit()
    with uow, pytest.raises(StaleMemberError):
        uow.members.add(Member("ada"), NOW)  # loaded as new, but the shopper exists now
        uow.events.add(joined("evt_019ab000000000000000a2"))
        uow.commit()
    assert get_event("evt_019ab000000000000000a2") is None


def test_an_event_id_taken_fails_the_whole_fact() -> None:
    uow = DynamoUnitOfWork(catalog)
    with uow:
        uow.events.add(joined("evt_019ab000000000000000a3"))
        uow.commit()
    with uow, pytest.raises(EventIdTakenError):
        uow.members.add(Member("ada"), NOW)
        uow.events.add(joined("evt_019ab000000000000000a3", sequence=2))
        uow.commit()
    assert uow.members.get("ada") is None
    assert get_event("evt_019ab000000000000000a3") == joined("evt_019ab000000000000000a3")
