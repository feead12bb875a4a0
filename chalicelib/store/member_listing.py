"""Every shopper's subscriptions, for the memberships report.

A paginated Scan of the `members` table that reads only the `subscriptions` attribute: the one read
of this service whose cost grows with the number of shoppers (one page per ~1 MB, a few thousand
shoppers). Nothing on a shopper's request path calls it.
"""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.domain.membership import SubscriptionSnapshot
from chalicelib.store.members import MemberRecord

PAGE_SIZE = 1000


def every_shoppers_subscriptions() -> Iterator[list[SubscriptionSnapshot]]:
    """One list per shopper (empty for a shopper who never subscribed), in no particular order."""
    for record in MemberRecord.scan(page_size=PAGE_SIZE, attributes_to_get=["subscriptions"]):
        yield list(record.subscriptions or [])
