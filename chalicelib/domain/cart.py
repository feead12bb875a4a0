"""Perks for a cart: the member discount, free shipping, early access, members-only items, the donation
preview and, for non-members, what joining would save on this cart.

Pure: the caller passes whether the shopper is a member (`perks_active`), their plan, the plans on offer,
the clock and the moment their access could lapse; nothing here reads a database or Stripe. One rule
(`perk_savings`) prices a plan's perks on a cart, for members' carts and for the "join and save" line alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from msgspec import Meta

from chalicelib.domain.catalog import ClientId, Perks, Plan, ShippingMethod
from chalicelib.domain.money import Amount, Currency, apply_bps, apply_percent

MAX_ITEMS = 250
# Storefronts may cache an answer this long at most (and never past `valid_until`).
MAX_CACHE = timedelta(seconds=60)

Sku = Annotated[str, Meta(min_length=1, max_length=128)]
Quantity = Annotated[int, Meta(ge=1, le=10_000)]
Moment = Annotated[datetime, Meta(tz=True, description="RFC 3339 with an offset, e.g. 2026-11-22T21:00:00Z")]


class CartItem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    sku: Sku
    unit_amount: Amount
    quantity: Quantity
    launch_at: Moment | None = None
    discountable: bool = True
    # Exclusive products: members may buy them, everyone else is blocked.
    members_only: bool = False


class Shipping(msgspec.Struct, forbid_unknown_fields=True):
    method: ShippingMethod
    amount: Amount


class Cart(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    customer_ref: ClientId | None = None
    currency: Currency
    items: Annotated[list[CartItem], Meta(min_length=1, max_length=MAX_ITEMS)]
    shipping: Shipping | None = None


class DiscountResult(msgspec.Struct):
    percent: int
    amount: int


class ShippingResult(msgspec.Struct):
    free: bool
    discount: int


class EarlyAccessResult(msgspec.Struct):
    allowed: list[str]
    blocked: list[str]


class MembersOnlyResult(msgspec.Struct):
    allowed: list[str]
    blocked: list[str]


class DonationPreview(msgspec.Struct):
    cause_id: str
    amount: int
    currency: str


class JoinPreview(msgspec.Struct):
    """The plan whose perks would save a non-member the most on this cart, and how much."""

    plan_id: str
    saves: int
    currency: str


class Eligibility(msgspec.Struct):
    customer_ref: str | None
    member: bool
    status: str | None
    plan_id: str | None
    subtotal: int
    member_discount: DiscountResult
    shipping: ShippingResult
    early_access: EarlyAccessResult
    members_only: MembersOnlyResult
    donation_preview: DonationPreview | None
    join_preview: JoinPreview | None
    evaluated_at: datetime
    valid_until: datetime


class Shopper(msgspec.Struct, frozen=True, kw_only=True):
    """Who is at the checkout, as far as perks go."""

    customer_ref: str | None = None
    status: str | None = None
    member: bool = False
    plan: Plan | None = None
    cause_id: str | None = None
    # When `member` stops being true unless Stripe says otherwise (leeway or grace end).
    access_until: datetime | None = None


class PerkSavings(msgspec.Struct, frozen=True):
    """What a set of perks takes off one cart."""

    percent: int
    discount: int
    free_shipping: bool
    shipping_discount: int

    @property
    def saves(self) -> int:
        return self.discount + self.shipping_discount


def perk_savings(cart: Cart, perks: Perks | None) -> PerkSavings:
    """The member discount and shipping waived that `perks` give on `cart` (None: no perks, nothing)."""
    subtotal = sum(item.unit_amount * item.quantity for item in cart.items)
    discountable = sum(item.unit_amount * item.quantity for item in cart.items if item.discountable)
    percent = perks.member_discount.percent if perks and perks.member_discount else 0
    discount = apply_percent(discountable, percent) if percent else 0
    free_shipping = bool(
        perks
        and perks.free_shipping
        and cart.shipping is not None
        and perks.free_shipping.allows(cart.shipping.method, cart.currency, subtotal)
    )
    shipping_discount = cart.shipping.amount if cart.shipping is not None and free_shipping else 0
    return PerkSavings(percent, discount, free_shipping, shipping_discount)


def join_preview(cart: Cart, plans: Iterable[Plan]) -> JoinPreview | None:
    """Of the active plans priced in the cart's currency, the one saving the most (ties: the cheapest).

    None when no plan saves anything on this cart.
    """
    best: tuple[int, int, str] | None = None  # (-saves, amount, plan_id): the smallest wins
    for plan in plans:
        if not plan.active or plan.currency != cart.currency:
            continue
        saves = perk_savings(cart, plan.perks).saves
        if saves > 0 and (best is None or (-saves, plan.amount, plan.plan_id) < best):
            best = (-saves, plan.amount, plan.plan_id)
    if best is None:
        return None
    return JoinPreview(plan_id=best[2], saves=-best[0], currency=cart.currency)


def evaluate_cart(cart: Cart, shopper: Shopper, now: datetime, plans: Iterable[Plan] = ()) -> Eligibility:
    """Which perks apply to this cart at `now`, and until when the answer holds.

    `plans` are the plans on offer: a non-member's `join_preview` is chosen among them.
    """
    perks = shopper.plan.perks if shopper.member and shopper.plan is not None else None
    subtotal = sum(item.unit_amount * item.quantity for item in cart.items)
    savings = perk_savings(cart, perks)
    percent, discount = savings.percent, savings.discount
    free_shipping, shipping_discount = savings.free_shipping, savings.shipping_discount
    shipping_amount = cart.shipping.amount if cart.shipping is not None else 0

    changes: list[datetime] = [now + MAX_CACHE]
    if shopper.access_until is not None:
        changes.append(shopper.access_until)
    allowed: list[str] = []
    blocked: list[str] = []
    early = timedelta(hours=perks.early_access.hours) if perks and perks.early_access else None
    for item in cart.items:
        if item.launch_at is None or item.launch_at <= now:
            continue  # launched: neither allowed nor blocked
        changes.append(item.launch_at)
        opens = item.launch_at - early if early is not None else None
        if opens is not None and now >= opens:
            _add_once(allowed, item.sku)
        else:
            _add_once(blocked, item.sku)
            if opens is not None:
                changes.append(opens)

    exclusive = MembersOnlyResult(allowed=[], blocked=[])
    for item in cart.items:
        if item.members_only:
            _add_once(exclusive.allowed if shopper.member else exclusive.blocked, item.sku)

    preview = None
    if shopper.member and shopper.plan is not None and shopper.cause_id is not None:
        # What the shopper would pay before tax: items less the discount, plus shipping less its discount.
        order_amount = subtotal - discount + shipping_amount - shipping_discount
        preview = DonationPreview(
            cause_id=shopper.cause_id,
            amount=apply_bps(order_amount, shopper.plan.donation.order_bps),
            currency=cart.currency,
        )

    return Eligibility(
        customer_ref=shopper.customer_ref,
        member=shopper.member,
        status=shopper.status,
        plan_id=shopper.plan.plan_id if shopper.plan is not None else None,
        subtotal=subtotal,
        member_discount=DiscountResult(percent=percent, amount=discount),
        shipping=ShippingResult(free=free_shipping, discount=shipping_discount),
        early_access=EarlyAccessResult(allowed=allowed, blocked=[s for s in blocked if s not in allowed]),
        members_only=exclusive,
        donation_preview=preview,
        join_preview=None if shopper.member else join_preview(cart, plans),
        evaluated_at=now,
        valid_until=min(c for c in changes if c > now),
    )


def _add_once(skus: list[str], sku: str) -> None:
    if sku not in skus:
        skus.append(sku)


def conflicting_launch(cart: Cart) -> int | None:
    """Index of an item whose sku appears earlier with another `launch_at` (one product, one launch)."""
    seen: dict[str, datetime | None] = {}
    for index, item in enumerate(cart.items):
        if item.sku in seen and seen[item.sku] != item.launch_at:
            return index
        seen.setdefault(item.sku, item.launch_at)
    return None
