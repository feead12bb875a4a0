"""Gift memberships: bought once, redeemed once, perks as the plan's until `gifted_until`.

A gift is a one-time payment of `months` × the plan's monthly price. Redeemed by a shopper with no paying
subscription, it sets `gifted_until` (perks as the gift's plan until then, `domain.membership.gift_active`);
redeemed by a shopper already paying, it becomes a Stripe customer balance credit of what was paid, which
covers their next renewals instead of granting perks twice. Everything here is pure.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.money import apply_bps, round_half_up_div

# Marks the Checkout Sessions (and their payments) that buy a gift.
GIFT_KIND = "vip_gift"


@dataclass(frozen=True, slots=True)
class Gift:
    gift_id: str
    code: str
    plan_id: str
    months: int
    recipient_email: str
    message: str | None
    purchaser_ref: str
    amount: int
    currency: str
    paid_at: datetime
    redeemed_by: str | None = None
    redeemed_at: datetime | None = None
    # How it was redeemed: "perks" (gifted_until) or "credit" (the renewals of a paying member).
    redeemed_as: str | None = None

    def redeemed(self, customer_ref: str, at: datetime, as_credit: bool) -> Gift:
        redeemed_as = "credit" if as_credit else "perks"
        return replace(self, redeemed_by=customer_ref, redeemed_at=at, redeemed_as=redeemed_as)


def gift_ids(session_id: str) -> tuple[str, str]:
    """(gift id, code) of the gift a paid Checkout Session bought: derived from the session, so a repeated
    webhook finds the same gift; the code is 16 base-32 characters nobody can guess without the session."""
    digest = base64.b32encode(hashlib.sha256(f"vip-gift:{session_id}".encode()).digest()).decode()
    return (
        f"gift_{digest[:16].lower()}",
        f"GIFT-{digest[16:20]}-{digest[20:24]}-{digest[24:28]}-{digest[28:32]}",
    )


def normalise_code(code: str) -> str:
    return code.strip().upper()


def monthly_price(amount: int, interval: str) -> int:
    """A plan's price for one month: a yearly plan's price ÷ 12, rounded half up."""
    return amount if interval == "month" else round_half_up_div(amount, 12)


def gift_pledge(amount: int, renewal_bps: int) -> int:
    """What a gift's payment pledges: `renewal_bps` of it, as a membership fee would."""
    return apply_bps(amount, renewal_bps)


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later on the calendar (Jan 31 + 1 month = Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def extend_gift(gifted_until: datetime | None, now: datetime, months: int) -> datetime:
    """A redeemed gift's perks run `months` from now, or from the end of a gift still running."""
    start = gifted_until if gifted_until is not None and gifted_until > now else now
    return add_months(start, months)
