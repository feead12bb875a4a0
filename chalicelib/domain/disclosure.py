"""The giving disclosure: what the club gives, on what, to whom, since when, and with what maximum.

Built from the plans and causes as they are configured, never typed by hand, so the words a shopper
reads before joining cannot drift from the rule the ledger applies (`DonationRule`). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from chalicelib.domain.catalog import Cause, Plan

AUDIENCE = "the cause you choose"


class PlanGiving(msgspec.Struct):
    plan_id: str
    order_bps: int
    renewal_bps: int
    text: str


class CauseGiving(msgspec.Struct):
    cause_id: str
    name: str
    legal_name: str | None
    tax_id: str | None
    url: str | None


class GivingPeriod(msgspec.Struct):
    # `from` is a Python keyword: the field is `from_` here and `from` on the wire.
    from_: datetime | None = msgspec.field(name="from")
    until: datetime | None = None


class Disclosure(msgspec.Struct):
    plans: list[PlanGiving]
    causes: list[CauseGiving]
    # No maximum today: a plan's portion applies to every order and fee whatever their number.
    cap: None
    period: GivingPeriod
    text: str


def percent_of_bps(bps: int) -> str:
    """Basis points as a percentage in words: 250 → "2.5 %", 1000 → "10 %", 5 → "0.05 %"."""
    whole, rest = divmod(bps, 100)
    if rest == 0:
        return f"{whole} %"
    return f"{whole}.{rest:02d}".rstrip("0") + " %"


def day(moment: datetime) -> str:
    """A date in words that reads the same in every locale: "23 October 2026"."""
    return f"{moment.day} {moment.strftime('%B %Y')}"


def plan_sentence(plan: Plan) -> str:
    """One plain sentence: the portion given on orders and on fees, to whom, the maximum and since when."""
    rule = plan.donation
    parts = []
    if rule.order_bps:
        parts.append(f"{percent_of_bps(rule.order_bps)} of the price of every member order")
    if rule.renewal_bps:
        parts.append(f"{percent_of_bps(rule.renewal_bps)} of each membership fee")
    since = f" since {day(plan.donation_since)}" if plan.donation_since is not None else ""
    comma = "," if since else ""
    if not parts:
        return f"{plan.name}: no part of orders or fees is given to a cause{since}."
    verb = "goes" if len(parts) == 1 else "go"
    return f"{plan.name}: {' and '.join(parts)} {verb} to {AUDIENCE}, with no maximum{comma}{since}."


def cause_line(cause: Cause) -> str:
    """ "School Meals (School Meals Foundation, tax id 12-3456789)"; the parts a cause lacks are left out."""
    details = [d for d in (cause.legal_name, f"tax id {cause.tax_id}" if cause.tax_id else None) if d]
    return f"{cause.name} ({', '.join(details)})" if details else cause.name


def build_disclosure(plans: Iterable[Plan], causes: Iterable[Cause]) -> Disclosure:
    """The disclosure of the active plans and causes, in id order."""
    offered = sorted((p for p in plans if p.active), key=lambda p: p.plan_id)
    chosen = sorted((c for c in causes if c.active), key=lambda c: c.cause_id)
    sentences = [plan_sentence(plan) for plan in offered]
    starts = [p.donation_since for p in offered if p.donation_since is not None]
    text = " ".join(sentences)
    if chosen:
        text += f" The causes to choose from: {'; '.join(cause_line(c) for c in chosen)}."
    return Disclosure(
        plans=[
            PlanGiving(p.plan_id, p.donation.order_bps, p.donation.renewal_bps, sentence)
            for p, sentence in zip(offered, sentences, strict=True)
        ],
        causes=[CauseGiving(c.cause_id, c.name, c.legal_name, c.tax_id, c.url) for c in chosen],
        cap=None,
        period=GivingPeriod(from_=min(starts) if starts else None),
        text=text.strip(),
    )
