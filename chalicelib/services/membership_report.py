"""The memberships report for brand teams (rules in `domain.membership_report`)."""

from __future__ import annotations

from chalicelib import clock
from chalicelib.domain.membership_report import (
    MAX_MONTHS,
    MONTH_PATTERN,
    MembershipReport,
    membership_report,
    months_between,
    months_ending,
)
from chalicelib.domain.times import month_of
from chalicelib.errors import ValidationError
from chalicelib.services import catalog
from chalicelib.services.access import access_policy
from chalicelib.store import member_listing

DEFAULT_MONTHS = 12


def build_membership_report(first: str | None = None, last: str | None = None) -> MembershipReport:
    """Members per plan and status and MRR now; joins and cancellations per month `first`..`last`.

    `last` defaults to the current month, `first` to eleven months before `last`. Costs one Scan
    of the members table (projected to the subscriptions) plus the cached plans.
    """
    for name, value in (("from", first), ("to", last)):
        if value is not None and not MONTH_PATTERN.match(value):
            raise ValidationError(f"`{name}` must be a month as YYYY-MM.", param=name)
    now = clock.now()
    last = last or month_of(now)
    first = first or months_ending(last, DEFAULT_MONTHS)[0]
    if first > last:
        raise ValidationError("`from` is after `to`.", param="from")
    if len(months_between(first, last)) > MAX_MONTHS:
        raise ValidationError(f"At most {MAX_MONTHS} months per report.", param="to")
    plans = catalog.plans()
    return membership_report(
        member_listing.every_shoppers_subscriptions(), plans, now, access_policy(), first, last
    )
