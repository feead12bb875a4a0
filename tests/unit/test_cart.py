"""Cart evaluation: money math properties (hypothesis) and the perk rules at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.cart import Cart, CartItem, Shipping, ShippingResult, Shopper, evaluate_cart
from chalicelib.domain.catalog import (
    DonationRule,
    EarlyAccess,
    FreeShipping,
    MemberDiscount,
    Perks,
    Plan,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def plan(percent: int = 10, order_bps: int = 200) -> Plan:
    return Plan(
        plan_id="vip", name="VIP", amount=999, currency="usd", interval="month",
        perks=Perks(
            free_shipping=FreeShipping(min_subtotal={"usd": 5000}, methods=["standard"]),
            member_discount=MemberDiscount(percent=percent),
            early_access=EarlyAccess(hours=48),
        ),
        donation=DonationRule(order_bps=order_bps),
    )  # fmt: skip


MEMBER = Shopper(customer_ref="ada", status="active", member=True, plan=plan(), cause_id="meals",
                 access_until=NOW + timedelta(days=30))  # fmt: skip
GUEST = Shopper()

items = st.lists(
    st.builds(
        CartItem,
        sku=st.text("abc", min_size=1, max_size=3),
        unit_amount=st.integers(0, 100_000_000_00),
        quantity=st.integers(1, 10_000),
        discountable=st.booleans(),
    ),
    min_size=1,
    max_size=20,
)


@given(items, st.integers(1, 100))
def test_discount_never_exceeds_the_discountable_subtotal_and_is_never_negative(
    lines: list[CartItem], percent: int
) -> None:
    shopper = Shopper(customer_ref="ada", member=True, plan=plan(percent), cause_id="meals")
    result = evaluate_cart(Cart(currency="usd", items=lines), shopper, NOW)
    discountable = sum(i.unit_amount * i.quantity for i in lines if i.discountable)
    assert 0 <= result.member_discount.amount <= discountable
    assert result.member_discount.amount == (2 * discountable * percent + 100) // 200
    assert evaluate_cart(Cart(currency="usd", items=lines), shopper, NOW) == result


@given(items)
def test_non_members_get_nothing(lines: list[CartItem]) -> None:
    result = evaluate_cart(Cart(currency="usd", items=lines, shipping=Shipping("standard", 500)), GUEST, NOW)
    assert (result.member, result.member_discount.amount, result.shipping.discount) == (False, 0, 0)
    assert result.donation_preview is None


@given(items, st.integers(0, 10_000))
def test_donation_preview_is_round_half_up_of_what_the_shopper_pays(lines: list[CartItem], bps: int) -> None:
    shopper = Shopper(customer_ref="ada", member=True, plan=plan(order_bps=bps), cause_id="meals")
    result = evaluate_cart(Cart(currency="usd", items=lines), shopper, NOW)
    paid = result.subtotal - result.member_discount.amount
    assert result.donation_preview is not None
    assert result.donation_preview.amount == (2 * paid * bps + 10_000) // 20_000


def test_discount_rounds_half_up() -> None:
    cart = Cart(currency="usd", items=[CartItem(sku="a", unit_amount=5, quantity=1)])
    assert evaluate_cart(cart, MEMBER, NOW).member_discount.amount == 1  # 0.5 → 1


def test_free_shipping_at_exactly_the_minimum() -> None:
    cart = Cart(currency="usd", items=[CartItem(sku="a", unit_amount=5000, quantity=1)],
                shipping=Shipping("standard", 595))  # fmt: skip
    assert evaluate_cart(cart, MEMBER, NOW).shipping.discount == 595
    below = Cart(currency="usd", items=[CartItem(sku="a", unit_amount=4999, quantity=1)],
                 shipping=Shipping("standard", 595))  # fmt: skip
    assert evaluate_cart(below, MEMBER, NOW).shipping.free is False


def _with_free_shipping(free_shipping: FreeShipping) -> Shopper:
    terms = plan()
    terms.perks.free_shipping = free_shipping
    return Shopper(customer_ref="ada", status="active", member=True, plan=terms, cause_id="meals")


def test_a_currency_absent_from_the_minimums_gets_no_free_shipping() -> None:
    shopper = _with_free_shipping(FreeShipping(min_subtotal={"usd": 5000, "eur": 4500}))
    cart = Cart(
        currency="jpy", items=[CartItem(sku="a", unit_amount=1, quantity=1)], shipping=Shipping("std", 5)
    )
    assert evaluate_cart(cart, shopper, NOW).shipping == ShippingResult(free=False, discount=0)


def test_no_minimums_mean_free_shipping_in_every_currency() -> None:
    shopper = _with_free_shipping(FreeShipping(min_subtotal={}))
    cart = Cart(
        currency="jpy", items=[CartItem(sku="a", unit_amount=1, quantity=1)], shipping=Shipping("std", 5)
    )
    assert evaluate_cart(cart, shopper, NOW).shipping == ShippingResult(free=True, discount=5)


@given(
    minimums=st.dictionaries(st.sampled_from(["usd", "eur", "jpy"]), st.integers(0, 10_000), max_size=3),
    currency=st.sampled_from(["usd", "eur", "jpy"]),
    unit_amount=st.integers(0, 12_000),
    method=st.sampled_from(["standard", "express"]),
    methods=st.one_of(st.none(), st.just(["standard"])),
    shipping_amount=st.integers(0, 2_000),
    member=st.booleans(),
)
def test_free_shipping_follows_the_minimum_of_the_carts_currency(
    minimums: dict[str, int], currency: str, unit_amount: int, method: str, methods: list[str] | None,
    shipping_amount: int, member: bool,
) -> None:  # fmt: skip
    shopper = _with_free_shipping(FreeShipping(min_subtotal=minimums, methods=methods))
    if not member:
        shopper = Shopper(customer_ref="bob", status="canceled", member=False, plan=shopper.plan)
    cart = Cart(currency=currency, items=[CartItem(sku="a", unit_amount=unit_amount, quantity=1)],
                shipping=Shipping(method, shipping_amount))  # fmt: skip
    expected = (
        member
        and (methods is None or method in methods)
        and (minimums == {} or (currency in minimums and unit_amount >= minimums[currency]))
    )
    result = evaluate_cart(cart, shopper, NOW).shipping
    assert result == ShippingResult(free=expected, discount=shipping_amount if expected else 0)


def test_early_access_opens_exactly_at_launch_minus_the_window() -> None:
    launch = NOW + timedelta(hours=48)
    cart = Cart(currency="usd", items=[CartItem(sku="drop", unit_amount=1, quantity=1, launch_at=launch)])
    assert evaluate_cart(cart, MEMBER, NOW).early_access.allowed == ["drop"]
    early = evaluate_cart(cart, MEMBER, NOW - timedelta(seconds=1))
    assert early.early_access.blocked == ["drop"]
    assert early.valid_until == NOW  # the window opens then


def test_valid_until_is_the_end_of_access_when_sooner_than_a_minute() -> None:
    shopper = Shopper(
        customer_ref="ada", member=True, plan=plan(), cause_id="m", access_until=NOW + timedelta(seconds=5)
    )
    cart = Cart(currency="usd", items=[CartItem(sku="a", unit_amount=1, quantity=1)])
    assert evaluate_cart(cart, shopper, NOW).valid_until == NOW + timedelta(seconds=5)
    assert evaluate_cart(cart, GUEST, NOW).valid_until == NOW + timedelta(seconds=60)


def _offer(
    plan_id: str, amount: int, percent: int | None, currency: str = "usd", active: bool = True
) -> Plan:
    return Plan(
        plan_id=plan_id, name=plan_id, amount=amount, currency=currency, interval="month", active=active,
        perks=Perks(
            free_shipping=FreeShipping(min_subtotal={currency: 5000}, methods=["standard"]),
            member_discount=MemberDiscount(percent=percent) if percent else None,
        ),
    )  # fmt: skip


def _cart(unit_amount: int = 6000, shipping: int = 700, **item: object) -> Cart:
    return Cart(
        currency="usd",
        items=[CartItem(sku="tee", unit_amount=unit_amount, quantity=1, **item)],  # type: ignore[arg-type]
        shipping=Shipping("standard", shipping),
    )


def test_members_only_items_are_allowed_for_members_and_blocked_for_everyone_else() -> None:
    cart = _cart(members_only=True)
    assert evaluate_cart(cart, MEMBER, NOW).members_only.allowed == ["tee"]
    assert evaluate_cart(cart, GUEST, NOW).members_only.blocked == ["tee"]
    assert evaluate_cart(_cart(), GUEST, NOW).members_only.blocked == []


def test_join_preview_offers_the_plan_saving_the_most_on_this_cart() -> None:
    plans = [_offer("small", 500, 5), _offer("big", 2000, 20)]
    preview = evaluate_cart(_cart(), GUEST, NOW, plans).join_preview
    assert preview is not None
    assert (preview.plan_id, preview.saves, preview.currency) == ("big", 1200 + 700, "usd")


def test_join_preview_breaks_ties_with_the_cheapest_plan() -> None:
    plans = [_offer("dear", 2000, 10), _offer("cheap", 900, 10)]
    preview = evaluate_cart(_cart(), GUEST, NOW, plans).join_preview
    assert preview is not None and preview.plan_id == "cheap"


def test_join_preview_skips_inactive_plans_and_plans_in_other_currencies() -> None:
    plans = [
        _offer("old", 900, 50, active=False),
        _offer("euro", 900, 50, currency="eur"),
        _offer("vip", 900, 10),
    ]
    preview = evaluate_cart(_cart(), GUEST, NOW, plans).join_preview
    assert preview is not None and preview.plan_id == "vip"


def test_join_preview_is_null_when_no_plan_saves_anything_or_for_members() -> None:
    no_savings = _cart(unit_amount=1000, shipping=0, discountable=False)
    assert evaluate_cart(no_savings, GUEST, NOW, [_offer("vip", 900, 10)]).join_preview is None
    assert evaluate_cart(_cart(), MEMBER, NOW, [_offer("vip", 900, 10)]).join_preview is None


@given(items, st.integers(1, 100), st.integers(0, 100_000))
def test_join_preview_saves_exactly_what_the_plan_gives_its_members(
    lines: list[CartItem], percent: int, shipping: int
) -> None:
    offer = _offer("vip", 999, percent)
    cart = Cart(currency="usd", items=lines, shipping=Shipping("standard", shipping))
    as_member = evaluate_cart(cart, Shopper(customer_ref="ada", member=True, plan=offer), NOW)
    preview = evaluate_cart(cart, GUEST, NOW, [offer]).join_preview
    saved = as_member.member_discount.amount + as_member.shipping.discount
    assert (preview.saves if preview else 0) == saved
