"""Gift memberships (items of the `program` table: `gift#<code>` / `gift`), written once when paid and
updated once when redeemed — both conditions in the transaction of their fact."""

from __future__ import annotations

import msgspec
from pynamodb.attributes import UnicodeAttribute

from chalicelib.domain.conflicts import EventAlreadyAppliedError, GiftRedeemedError
from chalicelib.domain.gift import Gift
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors
from chalicelib.store.transaction import Transaction

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Gift).decode
GIFT = "gift"


class GiftRecord(BaseModel):
    """Gifts share the program table (same keys: `scope`, `key`)."""

    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    gift = UnicodeAttribute(null=True)
    redeemed_by = UnicodeAttribute(null=True)


def _scope(code: str) -> str:
    return f"gift#{code}"


def get_gift(code: str) -> Gift | None:
    """The gift with this code (one strongly consistent GetItem), or None: not a code this service issued."""
    with storage_errors():
        try:
            record = GiftRecord.get(_scope(code), GIFT, consistent_read=True)
        except GiftRecord.DoesNotExist:
            return None
    return _decode(record.gift) if record.gift else None


def add_gift(tx: Transaction, gift: Gift, event_key: str) -> None:
    """A paid gift, once (a repeated webhook finds it recorded: the event was applied)."""
    tx.put(
        GiftRecord(_scope(gift.code), GIFT, gift=_encode(gift).decode()),
        condition=GiftRecord.scope.does_not_exist(),
        on_conflict=lambda _old: EventAlreadyAppliedError(event_key),
    )


def redeem_gift(tx: Transaction, gift: Gift) -> None:
    """The gift as redeemed, unless someone redeemed it first (GiftRedeemedError: 409)."""
    tx.put(
        GiftRecord(_scope(gift.code), GIFT, gift=_encode(gift).decode(), redeemed_by=gift.redeemed_by),
        condition=GiftRecord.scope.exists() & GiftRecord.redeemed_by.does_not_exist(),
        on_conflict=lambda _old: GiftRedeemedError(gift.code),
    )
