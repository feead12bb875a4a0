"""Demo data for `make dev`: two plans with every perk kind, three causes, two fixed keys."""

from __future__ import annotations

from chalicelib.domain.catalog import (
    CauseTerms,
    DonationRule,
    EarlyAccess,
    FreeShipping,
    Impact,
    MemberDiscount,
    Perks,
    PlanTerms,
)
from chalicelib.services import api_keys, catalog

STOREFRONT_KEY = "local-storefront-key"
BRAND_KEY = "local-brand-key"

_PERKS = Perks(
    free_shipping=FreeShipping(min_subtotal={"usd": 5000, "eur": 4500}, methods=["standard"]),
    member_discount=MemberDiscount(percent=10),
    early_access=EarlyAccess(hours=48),
)

PLANS = {
    "vip-monthly": PlanTerms(
        name="VIP Monthly",
        amount=999,
        currency="usd",
        interval="month",
        perks=_PERKS,
        donation=DonationRule(order_bps=200, renewal_bps=1000),
    ),
    "vip-yearly": PlanTerms(
        name="VIP Yearly",
        amount=9900,
        currency="usd",
        interval="year",
        trial_days=14,
        perks=Perks(
            free_shipping=FreeShipping(min_subtotal={}, methods=None),
            member_discount=MemberDiscount(percent=15),
            early_access=EarlyAccess(hours=72),
        ),
        donation=DonationRule(order_bps=300, renewal_bps=1000),
    ),
}

CAUSES = {
    "ocean-cleanup": CauseTerms(
        name="Ocean Cleanup",
        legal_name="Clean Coasts Foundation",
        tax_id="94-1234567",
        description="Removes plastic from coastlines and rivers.",
        url="https://example.org/ocean",
        impact=Impact(unit="kg of plastic removed", amount_per_unit=100),
    ),
    "school-meals": CauseTerms(
        name="School Meals",
        legal_name="School Meals Trust Inc.",
        tax_id="52-7654321",
        description="Hot lunches for children in under-served schools.",
        url="https://example.org/meals",
        impact=Impact(unit="meals", amount_per_unit=250),
    ),
    "reforestation": CauseTerms(
        name="Reforestation",
        legal_name="Native Forests Alliance",
        tax_id="83-2468135",
        description="Native trees planted and cared for.",
        url="https://example.org/trees",
        impact=Impact(unit="trees", amount_per_unit=500),
    ),
}


def seed() -> None:
    """Idempotent: running it again changes nothing."""
    for cause_id, cause in CAUSES.items():
        catalog.put_cause(cause_id, cause)
    for plan_id, plan in PLANS.items():
        catalog.put_plan(plan_id, plan)
    api_keys.mint_key("storefront", "local storefront", secret=STOREFRONT_KEY)
    api_keys.mint_key("brand", "local brand", secret=BRAND_KEY)
