"""Referrals: a member's code, a friend's checkout with it, and the referrer's credit once the hold has stood.

Money flow: the friend's first `friend_free_months` invoices are paid by a 100 % Stripe coupon (the member's
promotion code, first-time customers only), so they pay — and the program counts in fees — nothing for
them. The referrer's reward is a Stripe customer balance credit of `referrer_free_months` × their plan's
price: Stripe takes it off their next invoice, so their next fee (and the program's fees, and their
`value.fees_paid`) is that much lower. Nothing else is written to the ledger. A refund or dispute of the
friend's payment made before the hold ended but delivered after the credit takes it back: a debit of the
same amount (`services.stripe_events.claw_back`). Both balance moves commit as pointers with their decision
and are made in Stripe after it (`make_balance_moves`), so a decision that loses a race never credited.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from chalicelib import clock, log
from chalicelib.domain import events as outbound
from chalicelib.domain import referral as rules
from chalicelib.domain.catalog import Plan
from chalicelib.domain.csv_export import Cell, csv_document
from chalicelib.domain.events import Fact
from chalicelib.domain.member import Member
from chalicelib.domain.membership_report import months_between
from chalicelib.domain.referral import (
    BalanceMove,
    Credit,
    PaymentCheck,
    Referral,
    ReferralTerms,
    same_mailbox,
)
from chalicelib.errors import (
    ApiError,
    ConflictError,
    NotFoundError,
    UpstreamError,
    ValidationError,
)
from chalicelib.payments import referrals as stripe_referrals
from chalicelib.services import members
from chalicelib.services.access import access_of
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.settings import settings
from chalicelib.store import members as store
from chalicelib.store import referrals as referral_store

logger = log.get_logger("referrals")


class Friends(msgspec.Struct):
    joined: Annotated[int, Meta(description="Friends who started a membership with the code.")]
    rewarded: int
    pending: int
    withheld: int
    withheld_reasons: dict[str, int]


class ReferralAnswer(msgspec.Struct):
    code: str
    friend_free_months: int
    referrer_free_months: int
    friends: Friends


def _terms(plan: Plan | None) -> ReferralTerms | None:
    if plan is None or plan.referral is None:
        return None
    return ReferralTerms(plan.referral.friend_free_months, plan.referral.referrer_free_months)


def _plan_of(member: Member, now: datetime, plans: Mapping[str, Plan]) -> Plan | None:
    subscription = access_of(member, now).subscription
    return plans.get(subscription.plan_id or "") if subscription is not None else None


def referral_of(customer_ref: str, uow: UnitOfWork) -> ReferralAnswer:
    """The member's code (created in Stripe the first time it is asked for) and their friends so far.

    404 for an unknown shopper; 409 `no_referral_offer` unless the member's plan offers referrals.
    """
    now = clock.now()
    member = store.get_member(customer_ref)
    if member is None:
        raise NotFoundError(f"No shopper `{customer_ref}`.", param="customer_ref", code="member_not_found")
    plan = _plan_of(member, now, uow.catalog.plans())
    terms = _terms(plan)
    if terms is None:
        raise ConflictError(
            "This shopper's plan offers no referrals (or they have no membership).",
            param="customer_ref",
            code="no_referral_offer",
        )
    code = member.referral_code
    if code is None:
        coupon = stripe_referrals.ensure_coupon(terms.friend_free_months)
        code = stripe_referrals.create_code(customer_ref, rules.referral_code_for(customer_ref), coupon).code

        def keep(current: Member | None, _: members.MemberChange) -> Member | None:
            if current is None or current.referral_code is not None:
                return None
            current.referral_code = code
            return current

        members.change_member(customer_ref, keep, now, uow)
    counted = rules.tally(referral_store.referrals_of(customer_ref))
    return ReferralAnswer(
        code=code,
        friend_free_months=terms.friend_free_months,
        referrer_free_months=terms.referrer_free_months,
        friends=Friends(
            joined=counted.joined,
            rewarded=counted.rewarded,
            pending=counted.pending,
            withheld=counted.withheld,
            withheld_reasons=counted.withheld_reasons,
        ),
    )


def _refused(message: str, code: str = "invalid_referral_code") -> ValidationError:
    return ValidationError(message, param="referral_code", code=code)


def check_code(customer_ref: str, email: str, code: str, state: Member | None) -> tuple[str, Referral]:
    """A referral code a shopper typed at checkout → (its Stripe promotion code id, the friend's referral).

    400 naming `referral_code`: an unknown or inactive code, or one the shopper may not use (their own,
    or its member's e-mail under another spelling). A returning member may use it; the reward is withheld.
    """
    found = stripe_referrals.find_code(code)
    if found is None:
        raise _refused(f"`{code}` is not an active referral code.")
    if found.referrer_ref == customer_ref:
        raise _refused("A member cannot use their own referral code.", "own_referral_code")
    referrer = store.get_member(found.referrer_ref)
    if referrer is None:
        raise _refused(f"`{code}` is not an active referral code.")
    if same_mailbox(email or (state.email if state else None), referrer.email):
        raise _refused("This referral code belongs to the same e-mail address.", "own_referral_code")
    returning = state is not None and state.member_since is not None
    return found.promotion_code_id, Referral(found.referrer_ref, found.code, returning=returning)


# --- the hourly job ----------------------------------------------------------------------------------


class RewardRun(msgspec.Struct):
    rewarded: int = 0
    withheld: int = 0
    # Balance moves (credits, claw-backs' debits) made in Stripe by this run.
    moved: int = 0


def reward_due(uow: UnitOfWork, limit: int = 100) -> RewardRun:
    """Credit (or withhold) every referral whose hold has stood by now; each friend at most once.

    Per friend: read the friend and the referrer, decide, then one transaction marks the referral rewarded
    (or withheld) under the friend's version, counts the reward in the referrer's year under the referrer's
    version (so two runs at once cannot both pass the yearly cap), adds `referral.rewarded` to the
    referrer's events and a pointer to the credit still to make. Only then is the referrer's Stripe balance
    credited (idempotency key per friend) and the pointer deleted. The run first makes every balance move a
    crash or a Stripe outage left pending.
    """
    now = clock.now()
    run = RewardRun(moved=make_balance_moves(limit))
    for friend_ref in referral_store.due_referrals(now, limit):
        log.bind(customer_ref=friend_ref)
        outcome = _settle(friend_ref, now, uow)
        if outcome == "rewarded":
            run.rewarded += 1
            run.moved += make_balance_moves(limit, friend_ref)
        elif outcome == "withheld":
            run.withheld += 1
    if run.rewarded or run.withheld or run.moved:
        logger.info(
            "referral rewards settled",
            extra={"rewarded": run.rewarded, "withheld": run.withheld, "balance_moves": run.moved},
        )
    return run


def _settle(friend_ref: str, now: datetime, uow: UnitOfWork) -> str | None:
    friend = store.get_member(friend_ref)
    if friend is None or friend.referred is None:
        return None
    referral = friend.referred
    referrer = store.get_member(referral.referrer_ref)
    plans = uow.catalog.plans()
    credit: Credit | None = None
    if referrer is not None and referrer.stripe_customer_id is not None:
        plan = _plan_of(referrer, now, plans)
        terms = _terms(plan)
        if plan is not None and terms is not None:
            credit = Credit(terms.referrer_free_months * plan.amount, plan.currency)
    payment = _payment_check(referral, referrer, now)

    def decide(referral: Referral, rewards_this_year: int) -> rules.RewardDecision | None:
        return rules.decide_reward(
            referral,
            now,
            friend_email=friend.email,
            referrer_email=referrer.email if referrer else None,
            payment=payment,
            referrer_credit=credit,
            rewards_this_year=rewards_this_year,
            max_per_year=settings.referral_max_per_year,
        )

    decision = decide(referral, referrer.referral_rewards_in(now.year) if referrer else 0)
    if decision is None:
        return None
    return _commit_decision(friend_ref, referral, decide, now, uow)


def _commit_decision(
    friend_ref: str,
    referral: Referral,
    decide: Callable[[Referral, int], rules.RewardDecision | None],
    now: datetime,
    uow: UnitOfWork,
) -> str | None:
    """Commit the reward's decision, taken again on the friend and the referrer as loaded in the attempt
    (their versions are the transaction's conditions): a run that lost the race to another one re-decides
    with the other's reward counted. The credit itself is a pointer made in Stripe after the commit."""
    referrer_ref = referral.referrer_ref
    settled: str | None = None

    def settle(
        loaded: Mapping[str, Member | None], changes: Mapping[str, members.MemberChange]
    ) -> list[Member]:
        nonlocal settled
        settled = None
        friend, referrer = loaded[friend_ref], loaded[referrer_ref]
        if friend is None or friend.referred != referral:
            return []  # changed since it was read (a refund): the next run decides again
        decision = decide(referral, referrer.referral_rewards_in(now.year) if referrer else 0)
        if decision is None:
            return []
        if decision.credit is not None and (referrer is None or referrer.stripe_customer_id is None):
            decision = rules.RewardDecision(reason="referrer_not_member")  # gone since it was read
        if decision.credit is None:
            after = referral.withheld(decision.reason or "withheld", now)
            settled = "withheld"
        else:
            assert referrer is not None and referrer.stripe_customer_id is not None  # checked just above
            after = referral.rewarded(decision.credit, now)
            referrer.count_referral_reward(now.year)
            changes[referrer_ref].note(Fact(referral_rewarded=_reward_data(friend_ref, decision.credit)))
            changes[friend_ref].add_balance_move(
                BalanceMove(
                    friend_ref,
                    "credit",
                    referrer.stripe_customer_id,
                    decision.credit.amount,
                    decision.credit.currency,
                )
            )
            settled = "rewarded"
        friend.referred = after
        changes[friend_ref].change_referral(referral, after)
        # The referrer is written (under its version) whenever the decision counted their rewards.
        counted = decision.credit is not None or decision.reason == "yearly_cap"
        return [friend, referrer] if counted and referrer is not None else [friend]

    members.change_members([friend_ref, referrer_ref], settle, now, uow)
    return settled


def _payment_check(referral: Referral, referrer: Member | None, now: datetime) -> PaymentCheck:
    """What Stripe shows of the friend's first payment above zero (its cards, a refund or dispute whose
    webhook is late or lost) and the cards of the referrer's charges: three calls, made only for a referral
    that is due (nothing is asked of Stripe for one still holding)."""
    if not referral.due(now) or referral.invoice_id is None:
        return PaymentCheck()
    first = stripe_referrals.charges_of_invoice(referral.invoice_id)
    referrer_customer = referrer.stripe_customer_id if referrer is not None else None
    return PaymentCheck(
        friend_cards=first.card_fingerprints,
        refunded=first.refunded,
        disputed=first.disputed,
        referrer_cards=(
            stripe_referrals.card_fingerprints_of(referrer_customer) if referrer_customer else frozenset()
        ),
    )


def _reward_data(friend_ref: str, credit: Credit) -> outbound.ReferralData:
    """`data.referral` of `referral.rewarded` (an event of the referrer, numbered in their sequence)."""
    return outbound.ReferralData(
        friend_ref=friend_ref, credit=outbound.Credit(amount=credit.amount, currency=credit.currency)
    )


def make_balance_moves(limit: int = 100, friend_ref: str | None = None) -> int:
    """Make in Stripe the referrers' balance moves committed but not yet confirmed (one friend's, or all)
    and delete each one's pointer once Stripe confirmed it. Idempotency key per friend and kind: a move
    retried after a crash between Stripe and the delete is answered with the first. A Stripe failure
    leaves the pointer for the next hourly run. Returns how many moves were made."""
    made = 0
    for move in referral_store.balance_moves(limit, friend_ref):
        try:
            stripe_referrals.move_balance(
                move.stripe_customer_id,
                move.signed_amount,
                move.currency,
                idempotency_key=move.idempotency_key,
                description=_move_description(move),
            )
        except ApiError as exc:
            # Stripe unreachable (the next run retries), or refusing (an operator must look: the pointer
            # stays, and the other moves are still made).
            log_failure = logger.warning if isinstance(exc, UpstreamError) else logger.error
            log_failure(
                "referral balance move left for the next run",
                extra={"customer_ref": move.friend_ref, "kind": move.kind, "error": str(exc)},
            )
            continue
        referral_store.balance_moved(move)
        made += 1
    return made


def _move_description(move: BalanceMove) -> str:
    if move.kind == "credit":
        return f"Referral reward: {move.friend_ref} joined with your code"
    return f"Referral reward taken back: {move.friend_ref}'s first payment was refunded or disputed"


# --- the report --------------------------------------------------------------------------------------


class CreditGranted(msgspec.Struct):
    currency: str
    amount: int


class ReferralMonth(msgspec.Struct):
    period: str
    codes_used: int
    joined: int
    rewarded: int
    # Rewards taken back (a refund or dispute made before the hold ended, delivered after the credit): each
    # also counts in `withheld` under its reason, and its credit is taken off `credit` this month.
    clawed_back: int
    withheld: dict[str, int]
    credit: list[CreditGranted]


class ReferralReport(msgspec.Struct):
    data: list[ReferralMonth]


def build_referral_report(first: str, last: str) -> ReferralReport:
    """Per month of `first`..`last`: codes used at checkout, friends joined, rewarded, clawed back, withheld
    per reason, credit granted per currency net of claw-backs (one Query)."""
    counts = referral_store.report_counts(first, last)
    rows = []
    for month in months_between(first, last):
        month_counts = counts.get(month, {})
        withheld = {
            reason: month_counts.get(f"withheld#{reason}", 0)
            for reason in rules.WITHHELD_REASONS
            if month_counts.get(f"withheld#{reason}", 0)
        }
        credit = [
            CreditGranted(currency=name.split("#", 1)[1], amount=amount)
            for name, amount in sorted(month_counts.items())
            if name.startswith("credit#")
        ]
        rows.append(
            ReferralMonth(
                period=month,
                codes_used=month_counts.get("codes_used", 0),
                joined=month_counts.get("joined", 0),
                rewarded=month_counts.get("rewarded", 0),
                clawed_back=month_counts.get("clawed_back", 0),
                withheld=withheld,
                credit=credit,
            )
        )
    return ReferralReport(data=rows)


def referral_csv(report: ReferralReport) -> str:
    """The report as CSV: one row per month, withheld reasons and credit per currency as columns."""
    currencies = sorted({c.currency for row in report.data for c in row.credit})
    header = ["period", "codes_used", "joined", "rewarded", "clawed_back"]
    header += [f"withheld_{reason}" for reason in rules.WITHHELD_REASONS]
    header += [f"credit_{currency}" for currency in currencies]
    lines: list[list[Cell]] = []
    for row in report.data:
        credit = {c.currency: c.amount for c in row.credit}
        line: list[Cell] = [row.period, row.codes_used, row.joined, row.rewarded, row.clawed_back]
        line += [row.withheld.get(reason, 0) for reason in rules.WITHHELD_REASONS]
        line += [credit.get(currency, 0) for currency in currencies]
        lines.append(line)
    return csv_document(header, lines)


def hold() -> timedelta:
    return timedelta(days=settings.referral_hold_days)
