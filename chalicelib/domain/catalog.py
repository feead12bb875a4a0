"""Plans and causes: what a brand sells and where donations go."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from chalicelib.domain.money import CURRENCIES, Amount, BasisPoints, Currency
from chalicelib.domain.patterns import whole

ID_PATTERN = whole("[A-Za-z0-9._:@-]{1,128}")
ClientId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=ID_PATTERN,
        description="1–128 characters of A-Z a-z 0-9 . _ : @ -",
    ),
]
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=2000)]
# Patterns mean the same to the decoder and to JSON Schema (see `domain/patterns.py`).
Url = Annotated[
    str,
    Meta(
        max_length=2048,
        pattern=whole("https?://[!-~]+"),
        description="An absolute http(s) URL, in ASCII as RFC 3986 has it (percent-encode anything else).",
    ),
]
ShippingMethod = Annotated[str, Meta(min_length=1, max_length=64)]
# A plan is one DynamoDB item (at most 400 KB) and is read on every eligibility check: its lists are
# bounded so that the largest plan the schema allows stays a few kilobytes.
MAX_SHIPPING_METHODS = 50
MinSubtotals = Annotated[
    dict[Currency, Amount],
    Meta(
        max_length=len(CURRENCIES),
        description="Per currency; at most one entry per currency Stripe charges in.",
        # msgspec's schema leaves out the keys' enum; the decoder enforces it.
        extra_json_schema={"propertyNames": {"enum": sorted(CURRENCIES)}},
    ),
]
ShippingMethods = Annotated[list[ShippingMethod], Meta(max_length=MAX_SHIPPING_METHODS)]


class FreeShipping(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`min_subtotal` per currency (`{}`: no minimum in any currency); `methods: None`: every method."""

    min_subtotal: MinSubtotals = {}
    methods: ShippingMethods | None = None

    def allows(self, method: str, currency: str, subtotal: int) -> bool:
        """Free shipping applies to this method, currency and subtotal.

        With minimums set, a currency absent from them gets none: a threshold priced in dollars does
        not offer free shipping on a ¥1 cart.
        """
        if self.methods is not None and method not in self.methods:
            return False
        if not self.min_subtotal:
            return True
        minimum = self.min_subtotal.get(currency)
        return minimum is not None and subtotal >= minimum


class MemberDiscount(msgspec.Struct, forbid_unknown_fields=True):
    percent: Annotated[int, Meta(ge=1, le=100)]


class EarlyAccess(msgspec.Struct, forbid_unknown_fields=True):
    hours: Annotated[int, Meta(ge=1, le=720)]


class Perks(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    free_shipping: FreeShipping | None = None
    member_discount: MemberDiscount | None = None
    early_access: EarlyAccess | None = None


class DonationRule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    order_bps: BasisPoints = 0
    renewal_bps: BasisPoints = 0


class ReferralOffer(msgspec.Struct, forbid_unknown_fields=True):
    """Give a month, get a month: the friend's first months free; the referrer is credited months of their
    own plan."""

    friend_free_months: Annotated[int, Meta(ge=1, le=12)]
    referrer_free_months: Annotated[int, Meta(ge=1, le=12)]


class PlanTerms(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a brand sets on a plan (the body of `PUT /v1/plans/{plan_id}`)."""

    name: Name
    amount: Amount
    currency: Currency
    interval: Literal["month", "year"]
    active: bool = True
    trial_days: Annotated[int, Meta(ge=0, le=730)] = 0
    perks: Perks = msgspec.field(default_factory=Perks)
    donation: DonationRule = msgspec.field(default_factory=DonationRule)
    referral: ReferralOffer | None = None


class Plan(PlanTerms, kw_only=True):
    plan_id: ClientId
    stripe_product_id: str | None = None
    stripe_price_id: str | None = None
    # When the plan's current `donation` terms took effect (the giving disclosure's "since"); None for
    # plans saved before it was recorded.
    donation_since: datetime | None = None


class Impact(msgspec.Struct, forbid_unknown_fields=True):
    """How a cause counts the good a donation does: `amount_per_unit` minor units buy one `unit`."""

    unit: Annotated[str, Meta(min_length=1, max_length=64)]
    amount_per_unit: Annotated[int, Meta(ge=1, le=100_000_000_00)]

    def units(self, amount: int) -> int:
        """Whole units a net donation pays for (never negative)."""
        return max(amount, 0) // self.amount_per_unit

    def describe(self, amount: int) -> str:
        """The whole units a net donation pays for, in words: "1 meal", "3 meals"; a donation short of one
        unit is "less than one meal" (never "0 meals" for money given); nothing given is "0 meals"."""
        count = self.units(amount)
        if count == 0 and amount > 0:
            return f"less than one {singular(self.unit)}"
        return f"{count} {self.unit if count != 1 else singular(self.unit)}"


def singular(unit: str) -> str:
    """The singular of a plural unit's first word ("meals" → "meal", "trees planted" → "tree planted",
    "families" → "family", "boxes" → "box"); a unit that is not an English plural stays as it is."""
    word, space, rest = unit.partition(" ")
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 3:
        word = word[:-3] + ("Y" if word[-3:].isupper() else "y")
    elif lower.endswith(("ches", "shes", "sses", "xes", "zes")):
        word = word[:-2]
    elif lower.endswith("s") and not lower.endswith("ss") and len(word) > 1:
        word = word[:-1]
    return word + space + rest


class CauseTerms(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a brand sets on a cause (the body of `PUT /v1/causes/{cause_id}`)."""

    name: Name
    # The registered charity behind the cause and its tax id (EIN, charity number), shown in the disclosure.
    legal_name: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    tax_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    description: Text = ""
    url: Url | None = None
    active: bool = True
    impact: Impact | None = None


class Cause(CauseTerms, kw_only=True):
    cause_id: ClientId
