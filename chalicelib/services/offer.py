"""What the club offers, publicly: the active plans and causes, "join and save" for a cart, and the giving
disclosure. Everything comes from the container's catalog cache, so a warm function reads no DynamoDB."""

from __future__ import annotations

import msgspec

from chalicelib.domain.cart import Cart, JoinPreview, join_preview
from chalicelib.domain.catalog import Cause, Perks
from chalicelib.domain.disclosure import Disclosure, build_disclosure
from chalicelib.services import catalog


class OfferedPlan(msgspec.Struct):
    plan_id: str
    name: str
    amount: int
    currency: str
    interval: str
    trial_days: int
    perks: Perks


class Offer(msgspec.Struct):
    plans: list[OfferedPlan]
    causes: list[Cause]
    disclosure: Disclosure


class JoinOffer(msgspec.Struct):
    join_preview: JoinPreview | None


def disclosure() -> Disclosure:
    """The giving disclosure of the active plans and causes."""
    return build_disclosure(catalog.plans().values(), catalog.causes().values())


def offer(currency: str | None) -> Offer:
    """The active plans (in `currency` when given), the active causes and the disclosure."""
    plans = sorted(
        (p for p in catalog.plans().values() if p.active and currency in (None, p.currency)),
        key=lambda p: (p.currency, p.amount, p.plan_id),
    )
    return Offer(
        plans=[
            OfferedPlan(p.plan_id, p.name, p.amount, p.currency, p.interval, p.trial_days, p.perks)
            for p in plans
        ],
        causes=sorted((c for c in catalog.causes().values() if c.active), key=lambda c: c.cause_id),
        disclosure=disclosure(),
    )


def preview(cart: Cart) -> JoinOffer:
    """ "Join and save" for a guest's cart: the rule eligibility applies to non-members (`join_preview`)."""
    return JoinOffer(join_preview=join_preview(cart, catalog.plans().values()))
