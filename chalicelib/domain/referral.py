"""Referrals ("give a month, get a month"): the friend's side of a referral and when its referrer is paid.

A referral lives on the friend's member item and moves through these states:

    started  ─ first invoice paid ─▶ joined ─ first invoice above zero ─▶ holding ─ hold stood ─▶ rewarded
                                       │                                     │                      │
                                       └─── returning member, refund, dispute, self-referral, cap ──▶ withheld
                                                                                                    ▲
                          a refund or dispute made before the hold ended, delivered after the reward ┘

`joined`, `holding` count as pending. The referrer is credited only once the friend's first invoice above
zero has stood `hold_days` without a refund or a dispute; a refund or dispute created before then withholds
it, even when Stripe delivers it after the reward was credited (the credit is then clawed back), and so does
one Stripe shows on that payment when the hold has stood (its webhook late or lost). So does a card seen both
on that payment and on the referrer's charges. Money moves in the referrer's Stripe balance are
`BalanceMove`s: committed with the decision, made in Stripe after it. Everything here is pure: services pass
the clock, the settings and what Stripe said.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

STARTED = "started"
JOINED = "joined"
HOLDING = "holding"
REWARDED = "rewarded"
WITHHELD = "withheld"
PENDING_STATES = frozenset({JOINED, HOLDING})

# Why a referrer was not credited for a friend (`withheld_reasons` in the referral answer).
WithheldReason = Literal[
    "self_referral", "returning_member", "yearly_cap", "refunded", "disputed", "referrer_not_member"
]
WITHHELD_REASONS: tuple[str, ...] = (
    "self_referral",
    "returning_member",
    "yearly_cap",
    "refunded",
    "disputed",
    "referrer_not_member",
)

# Providers whose addresses ignore `+tags` (and, for Gmail, dots) in the local part.
_TAGGED_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
    }
)
_DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalise_email(email: str) -> str:
    """One mailbox, one spelling: case folded; for common providers `+tags` dropped (and Gmail's dots,
    `googlemail.com` being `gmail.com`)."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _TAGGED_DOMAINS:
        local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def same_mailbox(first: str | None, second: str | None) -> bool:
    return bool(first and second and normalise_email(first) == normalise_email(second))


def referral_code_for(customer_ref: str) -> str:
    """The member's code: stable (a retried creation in Stripe asks for the same one), short, unambiguous."""
    digest = hashlib.sha256(f"vip-referral:{customer_ref}".encode()).digest()
    return "VIP" + base64.b32encode(digest).decode()[:8]


@dataclass(frozen=True, slots=True)
class ReferralTerms:
    """A plan's referral offer: the friend's free months, the referrer's credit in months of their plan."""

    friend_free_months: int
    referrer_free_months: int


@dataclass(frozen=True, slots=True)
class Credit:
    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class Referral:
    """A friend's referral, as stored on the friend's member item."""

    referrer_ref: str
    code: str
    state: str = STARTED
    # The friend had been a member before using the code (seen at checkout).
    returning: bool = False
    joined_at: datetime | None = None
    # The friend's first invoice above zero, and when its hold ends.
    invoice_id: str | None = None
    due_at: datetime | None = None
    reason: str | None = None
    # What the referrer was credited (kept when the credit is clawed back: what was debited).
    credit: Credit | None = None
    decided_at: datetime | None = None
    # A rewarded referral withheld later: when the refund or dispute that took the credit back was made.
    clawed_back_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.state in PENDING_STATES

    def due(self, now: datetime) -> bool:
        """The friend's first payment above zero has stood the hold: the reward is decided now."""
        return self.state == HOLDING and self.due_at is not None and now >= self.due_at

    def paid(self, invoice_id: str, amount_paid: int, paid_at: datetime, hold: timedelta) -> Referral:
        """A paid invoice of the friend: the first makes them joined, the first above zero starts the hold
        (or withholds a returning member's referral). Later invoices change nothing."""
        referral = self
        if referral.state == STARTED:
            referral = replace(referral, state=JOINED, joined_at=paid_at)
        if referral.state != JOINED or amount_paid <= 0:
            return referral
        if referral.returning:
            return referral.withheld("returning_member", paid_at)
        return replace(referral, state=HOLDING, invoice_id=invoice_id, due_at=paid_at + hold)

    def charge_troubled(self, reason: Literal["refunded", "disputed"], at: datetime) -> Referral:
        """A refund or dispute of the friend's payment made at `at` (Stripe's time, not the delivery's):
        withholds a reward not yet due, and takes back one already credited when `at` is before the hold
        ended (Stripe delivered it late). One made after the hold has stood is too late to matter."""
        if self.state not in (STARTED, JOINED, HOLDING, REWARDED):
            return self
        if self.due_at is not None and at >= self.due_at:
            return self
        if self.state == REWARDED:
            if self.due_at is None:
                return self
            return replace(self, state=WITHHELD, reason=reason, clawed_back_at=at)
        return self.withheld(reason, at)

    @property
    def clawed_back(self) -> bool:
        return self.state == WITHHELD and self.clawed_back_at is not None

    @property
    def reward_year(self) -> int | None:
        """The calendar year whose cap the reward counted in (also after a claw-back gave it back)."""
        return self.decided_at.year if self.credit is not None and self.decided_at is not None else None

    def withheld(self, reason: str, at: datetime) -> Referral:
        return replace(self, state=WITHHELD, reason=reason, decided_at=at)

    def rewarded(self, credit: Credit, at: datetime) -> Referral:
        return replace(self, state=REWARDED, credit=credit, decided_at=at)


BalanceKind = Literal["credit", "debit"]


@dataclass(frozen=True, slots=True)
class BalanceMove:
    """A move of the referrer's Stripe customer balance for one friend: the reward's credit, or the debit
    that claws it back. Committed (as a pointer) with the decision that makes it, then made in Stripe with
    the idempotency key, so a retry or a run after a crash moves the balance once."""

    friend_ref: str
    kind: BalanceKind
    stripe_customer_id: str
    amount: int
    currency: str

    @property
    def idempotency_key(self) -> str:
        what = "reward" if self.kind == "credit" else "clawback"
        return f"vip-referral-{what}-{self.friend_ref}"

    @property
    def signed_amount(self) -> int:
        """Stripe's sign: a negative balance transaction is a credit (the customer is owed it)."""
        return -self.amount if self.kind == "credit" else self.amount


@dataclass(frozen=True, slots=True)
class RewardDecision:
    """What the hourly job does about a referral that is due: credit `credit`, or withhold for `reason`."""

    credit: Credit | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentCheck:
    """What Stripe shows once the hold has stood: the cards (fingerprints) that paid the friend's first
    invoice above zero, whether that payment has been refunded (any amount) or disputed, and the cards of
    the referrer's own charges."""

    friend_cards: frozenset[str] = frozenset()
    refunded: bool = False
    disputed: bool = False
    referrer_cards: frozenset[str] = frozenset()

    @property
    def shared_card(self) -> bool:
        return bool(self.friend_cards & self.referrer_cards)


def decide_reward(
    referral: Referral,
    now: datetime,
    *,
    friend_email: str | None,
    referrer_email: str | None,
    payment: PaymentCheck,
    referrer_credit: Credit | None,
    rewards_this_year: int,
    max_per_year: int,
) -> RewardDecision | None:
    """The referrer's reward for a friend whose hold has stood, or None when nothing is due yet.

    Withheld, first reason first: `self_referral` (one mailbox, or one card on the friend's first payment
    and the referrer's charges), `refunded` / `disputed` (Stripe shows it on that payment, its webhook
    late or lost), `referrer_not_member`, `yearly_cap`.
    """
    if not referral.due(now):
        return None
    if same_mailbox(friend_email, referrer_email) or payment.shared_card:
        return RewardDecision(reason="self_referral")
    if payment.refunded:
        return RewardDecision(reason="refunded")
    if payment.disputed:
        return RewardDecision(reason="disputed")
    if referrer_credit is None:
        return RewardDecision(reason="referrer_not_member")
    if rewards_this_year >= max_per_year:
        return RewardDecision(reason="yearly_cap")
    return RewardDecision(credit=referrer_credit)


@dataclass(frozen=True, slots=True)
class Tally:
    """A referrer's friends: `joined` = rewarded + pending + withheld."""

    joined: int
    rewarded: int
    pending: int
    withheld: int
    withheld_reasons: dict[str, int]


def tally(referrals: list[Referral]) -> Tally:
    """Count a referrer's friends who started a membership (a checkout never paid is not a friend yet)."""
    counted = [r for r in referrals if r.state != STARTED]
    reasons: dict[str, int] = {}
    for referral in counted:
        if referral.state == WITHHELD and referral.reason:
            reasons[referral.reason] = reasons.get(referral.reason, 0) + 1
    return Tally(
        joined=len(counted),
        rewarded=sum(r.state == REWARDED for r in counted),
        pending=sum(r.pending for r in counted),
        withheld=sum(r.state == WITHHELD for r in counted),
        withheld_reasons=dict(sorted(reasons.items())),
    )


def transition_counts(before: Referral | None, after: Referral) -> list[str]:
    """The report counters one change moves: `codes_used` (a checkout with the code), `joined`, `rewarded`,
    `withheld#<reason>`, `clawed_back` (a rewarded referral withheld: it also counts as withheld; the credit
    granted is counted by currency beside `rewarded`, and taken off in the month of a claw-back)."""
    if before == after:
        return []
    moves: list[str] = []
    was = before.state if before is not None else None
    if before is None:
        moves.append("codes_used")
    if was in (None, STARTED) and after.state != STARTED:
        moves.append("joined")
    if was != REWARDED and after.state == REWARDED:
        moves.append("rewarded")
    if was != WITHHELD and after.state == WITHHELD:
        moves.append(f"withheld#{after.reason}")
    if was == REWARDED and after.state == WITHHELD:
        moves.append("clawed_back")
    return moves
