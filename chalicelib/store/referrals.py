"""Referrals as the referrer and the report see them (items of the `program` table, scopes `referrals...`).

The referral itself lives on the friend's member item (`MemberRecord.referred`); every change of it commits,
in the same transaction, with:
- a copy under the referrer (`referrals#<referrer>` / `friend#<friend>`): the referral answer is one Query;
- while it is holding, a due pointer (`referrals-due` / `<due_at>#<friend>`): the hourly job's one Query;
- the month's report counters (`referrals-report` / `<YYYY-MM>#<counter>`), moved with ADD.
The referrer's count for the yearly cap is on the referrer's member item (`referral_rewards`), which a reward
or a claw-back writes in the same transaction under the referrer's version.

A move of the referrer's Stripe balance (the reward's credit, a claw-back's debit) is a pointer
(`referrals-balance` / `<friend>#<credit|debit>`) committed with the decision; the service makes it in Stripe
(idempotency key per friend and kind) and then deletes the pointer, so it is made once whatever crashes.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.domain.referral import HOLDING, REWARDED, WITHHELD, BalanceMove, Referral, transition_counts
from chalicelib.domain.times import month_of
from chalicelib.settings import settings
from chalicelib.store.base import BaseMeta, BaseModel, storage_errors
from chalicelib.store.transaction import Transaction

DUE = "referrals-due"
REPORT = "referrals-report"
BALANCE = "referrals-balance"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Referral).decode
_decode_move = msgspec.json.Decoder(BalanceMove).decode


class ReferralRecord(BaseModel):
    """Referral items share the program table (same keys: `scope`, `key`)."""

    class Meta(BaseMeta):
        table_name = settings.table_name("program")

    scope = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    referral = UnicodeAttribute(null=True)
    friend_ref = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    move = UnicodeAttribute(null=True)


def _of_referrer(referrer_ref: str) -> str:
    return f"referrals#{referrer_ref}"


def _due_key(due_at: datetime, friend_ref: str) -> str:
    return f"{due_at.strftime('%Y-%m-%dT%H:%M:%S')}#{friend_ref}"


def _add(tx: Transaction, scope: str, key: str, amount: int) -> None:
    tx.update(ReferralRecord(scope, key), actions=[ReferralRecord.amount.add(amount)])


def add_referral_effects(
    tx: Transaction, friend_ref: str, before: Referral | None, after: Referral, now: datetime
) -> None:
    """What a change of a friend's referral writes beside the friend's member item."""
    if before == after:
        return
    tx.put(
        ReferralRecord(
            _of_referrer(after.referrer_ref), f"friend#{friend_ref}", referral=_encode(after).decode()
        )
    )
    was_holding = before is not None and before.state == HOLDING and before.due_at is not None
    if was_holding and after.state != HOLDING:
        assert before is not None and before.due_at is not None
        tx.delete(ReferralRecord(DUE, _due_key(before.due_at, friend_ref)))
    if after.state == HOLDING and not was_holding and after.due_at is not None:
        tx.put(ReferralRecord(DUE, _due_key(after.due_at, friend_ref), friend_ref=friend_ref))
    month = month_of(now)
    for counter in transition_counts(before, after):
        _add(tx, REPORT, f"{month}#{counter}", 1)
    if after.state == REWARDED and (before is None or before.state != REWARDED) and after.credit:
        _add(tx, REPORT, f"{month}#credit#{after.credit.currency}", after.credit.amount)
    if before is not None and before.state == REWARDED and after.state == WITHHELD and after.credit:
        # A claw-back: the credit granted is taken off in the month it was taken back.
        _add(tx, REPORT, f"{month}#credit#{after.credit.currency}", -after.credit.amount)


def _move_key(friend_ref: str, kind: str) -> str:
    return f"{friend_ref}#{kind}"


def add_balance_move(tx: Transaction, move: BalanceMove) -> None:
    """The pointer of a balance move still to make in Stripe (one per friend and kind)."""
    tx.put(ReferralRecord(BALANCE, _move_key(move.friend_ref, move.kind), move=_encode(move).decode()))


def balance_moves(limit: int, friend_ref: str | None = None) -> list[BalanceMove]:
    """Balance moves committed but not yet confirmed by Stripe (one friend's, or all), a friend's credit
    before its debit (one Query)."""
    with storage_errors():
        condition = ReferralRecord.key.startswith(f"{friend_ref}#") if friend_ref is not None else None
        hits = ReferralRecord.query(BALANCE, condition, limit=limit, consistent_read=True)
        return [_decode_move(hit.move) for hit in hits if hit.move]


def balance_moved(move: BalanceMove) -> None:
    """Stripe confirmed the move: its pointer goes (deleting one already gone changes nothing)."""
    with storage_errors():
        ReferralRecord(BALANCE, _move_key(move.friend_ref, move.kind)).delete()


def referrals_of(referrer_ref: str) -> list[Referral]:
    """Every friend's referral of one referrer (one Query)."""
    with storage_errors():
        hits = ReferralRecord.query(_of_referrer(referrer_ref), ReferralRecord.key.startswith("friend#"))
        return [_decode(hit.referral) for hit in hits if hit.referral]


def due_referrals(now: datetime, limit: int) -> list[str]:
    """Friends whose hold ended by `now`, oldest first (one Query)."""
    with storage_errors():
        hits = ReferralRecord.query(DUE, ReferralRecord.key <= _due_key(now, "\uffff"), limit=limit)
        return [str(hit.friend_ref) for hit in hits if hit.friend_ref]


def report_counts(first: str, last: str) -> dict[str, dict[str, int]]:
    """Month → counter → count, for the months `first`..`last` (`YYYY-MM`; one Query)."""
    counts: dict[str, dict[str, int]] = {}
    with storage_errors():
        for hit in ReferralRecord.query(REPORT, ReferralRecord.key.between(f"{first}#", f"{last}#\uffff")):
            month, _, counter = hit.key.partition("#")
            counts.setdefault(month, {})[counter] = int(hit.amount or 0)
    return counts
