"""The member aggregate: one shopper, every subscription they have had, and what a Stripe fact changes.

Everything a write path must keep consistent is decided here, without I/O: which subscription
states are kept (never an older one over a newer one), which paid invoices have been accounted
for and what renewal pledge a new one makes, and the derived fields (`member_since`,
`reconcile_at`, the cohort standing and its counter moves). The store loads a `Member`, a service
applies facts to it, the store commits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain import membership as rules
from chalicelib.domain.cohorts import CohortMove, CohortStanding, follow
from chalicelib.domain.donations import PLEDGE, LedgerEntry
from chalicelib.domain.events import Recap
from chalicelib.domain.membership import AccessPolicy, SubscriptionSnapshot
from chalicelib.domain.money import apply_bps
from chalicelib.domain.referral import Referral
from chalicelib.domain.times import month_of

# How many paid invoice ids a member remembers: more than reconciliation lists per subscription,
# so an invoice it lists is either remembered or genuinely not yet accounted for.
REMEMBERED_INVOICES = 48


@dataclass(frozen=True, slots=True)
class PaidInvoice:
    """A paid membership invoice (a first payment or a renewal)."""

    invoice_id: str
    subscription_id: str | None
    amount_paid: int
    currency: str
    paid_at: datetime
    # A renewal (Stripe's `billing_reason` `subscription_cycle`), and the period it pays for.
    renewal: bool = False
    period_start: datetime | None = None
    period_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class ValueFigures:
    """A member's cumulative value in one currency: perks' savings (net of refunds), fees paid,
    donations (net). A recap is the difference of two of these."""

    saved: int = 0
    fees_paid: int = 0
    donated: int = 0


@dataclass(frozen=True, slots=True)
class RenewalPledge:
    """The donation a paid invoice pledges: one ledger entry, id `pledge#invoice#<invoice id>`."""

    entry_id: str
    entry: LedgerEntry
    occurred_at: datetime


def renewal_pledge_id(invoice_id: str) -> str:
    return f"pledge#invoice#{invoice_id}"


@dataclass(slots=True)
class Member:
    """A shopper as loaded from the store (`version` is the optimistic lock it was read at)."""

    customer_ref: str
    stripe_customer_id: str | None = None
    email: str | None = None
    cause_id: str | None = None
    subscriptions: list[SubscriptionSnapshot] = field(default_factory=list)
    member_since: datetime | None = None
    checkout_started_at: datetime | None = None
    # Unix seconds when reconciliation should re-read this shopper from Stripe; None: not needed.
    reconcile_at: int | None = None
    # Ids of the most recent paid invoices already accounted for (pledged, or nothing to pledge).
    paid_invoices: list[str] = field(default_factory=list)
    # The shopper's cohort and whether the cohort counters count them active (None: never paid).
    cohort: CohortStanding | None = None
    created_at: datetime | None = None
    # The `sequence` of the shopper's last outbound event (0: none yet); written whole with the member.
    last_sequence: int = 0
    # Per currency, the cumulative value figures when the current period started (its first paid
    # invoice): a recap is "figures now − this mark", whatever the length of the member's history.
    period_marks: dict[str, ValueFigures] = field(default_factory=dict)
    # Whether perks were active when the member was last written — what its outbound events last said.
    # A write that finds them gone by the clock since (grace or a period ran out, Stripe silent) makes
    # the `member.ended` then (`domain.events.as_last_written`). None: written before this was kept.
    perks_written: bool | None = None
    # The invoice whose payment failed last and is not paid yet (its payment is a recovery).
    dunning_invoice: str | None = None
    # The member's own referral code (a Stripe promotion code), once asked for.
    referral_code: str | None = None
    # The referral this shopper joined with (None: none).
    referred: Referral | None = None
    # As a referrer: rewards credited per calendar year (`"2026"` → count), for the yearly cap. On the
    # member item so that a reward commits under the referrer's version: two at once cannot pass the cap.
    referral_rewards: dict[str, int] = field(default_factory=dict)
    # A redeemed gift membership: perks as `gifted_plan_id`'s until then (None: no gift).
    gifted_until: datetime | None = None
    gifted_plan_id: str | None = None
    version: int | None = None
    # What the last `refresh` changed in the cohort counters (written with the member, never stored on it).
    cohort_moves: list[CohortMove] = field(default_factory=list)

    def referral_rewards_in(self, year: int) -> int:
        """Rewards this member (as a referrer) counts in `year` against the yearly cap."""
        return self.referral_rewards.get(str(year), 0)

    def count_referral_reward(self, year: int, step: int = 1) -> None:
        """A reward counted in `year` (`step` −1: a claw-back gives the slot back)."""
        count = max(0, self.referral_rewards_in(year) + step)
        if count:
            self.referral_rewards[str(year)] = count
        else:
            self.referral_rewards.pop(str(year), None)

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot | None:
        return rules.find_snapshot(self.subscriptions, subscription_id)

    def needs_fresh_state(self, payload: SubscriptionSnapshot) -> bool:
        """Must Stripe be asked for this subscription's state, the event's payload being `payload`?

        Yes when the payload is not strictly newer than what is stored (Stripe stamps several events
        of one subscription with the same second, so a tie says nothing about which came last) —
        unless it is exactly the stored state (a repeated delivery), or the stored subscription has
        ended: nothing Stripe says can change it any more.
        """
        stored = self.subscription(payload.subscription_id)
        if rules.supersedes(payload, stored) or stored == payload:
            # Newer, or exactly what is stored (a repeated delivery): nothing to ask.
            return False
        return stored is None or stored.status not in rules.TERMINAL_STATUSES

    def observe(self, snapshots: list[SubscriptionSnapshot]) -> bool:
        """Keep each state that is newer than the stored one; True when something was kept."""
        changed = False
        for snapshot in snapshots:
            if rules.supersedes(snapshot, self.subscription(snapshot.subscription_id)):
                self.subscriptions = rules.merge_snapshot(self.subscriptions, snapshot)
                changed = True
        return changed

    def link_stripe_customer(self, stripe_customer_id: str | None) -> None:
        """Stripe customers are created once per shopper: the first one linked stays."""
        self.stripe_customer_id = self.stripe_customer_id or stripe_customer_id

    def has_accounted_for(self, invoice_id: str) -> bool:
        return invoice_id in self.paid_invoices

    def record_paid_invoice(
        self,
        invoice: PaidInvoice,
        renewal_bps: int | None,
        default_cause_id: str | None,
        *,
        pledged_before: bool = False,
        cause_active: bool = True,
    ) -> RenewalPledge | None:
        """Account for a paid invoice once: the renewal pledge it makes, or None.

        None when it was accounted for before (on this member, or `pledged_before`: its ledger entry
        exists), when nothing is paid, when there is no plan (`renewal_bps` None) or no cause, or
        when the rounded pledge is zero. The invoice is remembered either way, so neither the webhook
        nor reconciliation considers it again.
        """
        if self.has_accounted_for(invoice.invoice_id):
            return None
        self.paid_invoices = [*self.paid_invoices, invoice.invoice_id][-REMEMBERED_INVOICES:]
        # An inactive cause takes no new pledges: they go to the default cause.
        cause_id = (self.cause_id if cause_active else None) or default_cause_id
        if pledged_before or renewal_bps is None or cause_id is None:
            return None
        amount = apply_bps(invoice.amount_paid, renewal_bps)
        if amount == 0:
            return None
        entry = LedgerEntry(PLEDGE, cause_id, invoice.currency, amount, month_of(invoice.paid_at))
        return RenewalPledge(renewal_pledge_id(invoice.invoice_id), entry, invoice.paid_at)

    def recap(self, currency: str, figures: dict[str, ValueFigures]) -> Recap:
        """The current period's recap so far: the cumulative `figures` (as read now) less the mark
        taken when the period started (none: the membership's whole history)."""
        now = figures.get(currency, ValueFigures())
        mark = self.period_marks.get(currency, ValueFigures())
        return Recap(
            saved=now.saved - mark.saved,
            fees_paid=now.fees_paid - mark.fees_paid,
            donated=now.donated - mark.donated,
            currency=currency,
        )

    def close_period(self, currency: str, figures: dict[str, ValueFigures]) -> Recap:
        """A period ends with a paid invoice (read before that invoice's own fee and pledge count):
        the recap of the period that ended, and the mark the next one starts from."""
        ended = self.recap(currency, figures)
        self.period_marks = {**self.period_marks, currency: figures.get(currency, ValueFigures())}
        return ended

    def plan_of(self, subscription_id: str | None) -> str | None:
        stored = self.subscription(subscription_id) if subscription_id else None
        return stored.plan_id if stored else None

    def refresh(self, now: datetime, policy: AccessPolicy) -> None:
        """Recompute the derived fields; every write path calls this before committing."""
        self.member_since = rules.member_since(self.subscriptions, self.member_since)
        self.cohort, self.cohort_moves = follow(self.cohort, self.subscriptions, now, policy)
        governing = rules.governing_subscription(self.subscriptions, now, policy)
        self.perks_written = rules.perks_active(governing, now, policy)
        started = int(self.checkout_started_at.timestamp()) if self.checkout_started_at else None
        self.reconcile_at = rules.next_check(self.subscriptions, started, int(now.timestamp()), policy)
