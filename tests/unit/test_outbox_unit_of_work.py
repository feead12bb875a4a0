"""The events repository of the unit of work: an outbound event commits with its fact, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.conflicts import EventIdTakenError, StaleMemberError
from chalicelib.domain.events import MEMBER_JOINED, Event
from chalicelib.domain.member import Member
from tests.memory_uow import InMemoryUnitOfWork

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def joined(event_id: str = "evt_00000000000000000001", sequence: int = 1) -> Event:
    return Event(id=event_id, type=MEMBER_JOINED, created_at=NOW, customer_ref="ada", sequence=sequence,
                 data={"membership": {"customer_ref": "ada", "status": "active"}})  # fmt: skip


def test_an_event_commits_with_its_fact() -> None:
    uow = InMemoryUnitOfWork()
    with uow:
        uow.members.add(Member("ada"), NOW)
        uow.events.add(joined())
        uow.commit()
    assert list(uow.tables.outbox.values()) == [joined()]
    assert uow.tables.members["ada"].version == 1


def test_leaving_without_commit_writes_no_event() -> None:
    uow = InMemoryUnitOfWork()
    with uow:
        uow.events.add(joined())
    assert uow.tables.outbox == {}


def test_a_fact_that_loses_its_race_writes_no_event() -> None:
    uow = InMemoryUnitOfWork()
    uow.tables.members["ada"] = Member("ada", version=2)
    with uow, pytest.raises(StaleMemberError):
        uow.members.add(Member("ada", version=1), NOW)
        uow.events.add(joined())
        uow.commit()
    assert uow.tables.outbox == {}


def test_an_event_id_taken_is_a_lost_race_and_writes_nothing() -> None:
    uow = InMemoryUnitOfWork()
    with uow:
        uow.events.add(joined())
        uow.commit()
    with uow, pytest.raises(EventIdTakenError):
        uow.members.add(Member("ada"), NOW)
        uow.events.add(joined(sequence=2))
        uow.commit()
    assert [event.sequence for event in uow.tables.outbox.values()] == [1]
    assert "ada" not in uow.tables.members
