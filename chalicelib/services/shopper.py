"""The shopper's own club, from the browser: thin wrappers over `services.members` that add what a
shopper token changes — the shopper comes from the token, an unseen shopper reads as `status: "none"`,
and every URL a shopper passes must lead back to one of the brand's storefront origins."""

from __future__ import annotations

from chalicelib.domain.origins import on_origins, origin_of
from chalicelib.errors import NotFoundError, ValidationError
from chalicelib.services import members
from chalicelib.services.members import CheckoutStarted, Membership
from chalicelib.services.unit_of_work import UnitOfWork
from chalicelib.settings import settings


def allowed_origins() -> frozenset[str]:
    """The storefront origins (STOREFRONT_ORIGINS), normalised."""
    return frozenset(filter(None, (origin_of(o) for o in settings.storefront_origins)))


def require_storefront_url(url: str, param: str) -> str:
    """`url` when it leads to a storefront origin (STOREFRONT_ORIGINS), else 400 `invalid_url`."""
    if not on_origins(url, settings.storefront_origins):
        raise ValidationError(
            f"`{param}` must lead to one of the storefront's origins.", param=param, code="invalid_url"
        )
    return url


def membership(customer_ref: str) -> Membership:
    """The shopper's membership; a shopper never seen before is `status: "none"` (not an error)."""
    try:
        return members.get_membership(customer_ref)
    except NotFoundError:
        return Membership(
            customer_ref=customer_ref, status="none", plan_id=None, perks_active=False, perks=None,
            current_period_end=None, cancel_at_period_end=False, grace_until=None, paused_until=None,
            cause_id=settings.default_cause_id, member_since=None, impact={}, value={},
        )  # fmt: skip


def start_checkout(
    customer_ref: str,
    *,
    plan_id: str,
    success_url: str,
    cancel_url: str,
    email: str | None,
    cause_id: str | None,
    uow: UnitOfWork,
    referral_code: str | None = None,
) -> CheckoutStarted:
    """Checkout for the shopper, returning only to the storefront's own pages."""
    require_storefront_url(success_url, "success_url")
    require_storefront_url(cancel_url, "cancel_url")
    return members.start_checkout(
        customer_ref, plan_id=plan_id, email=email or "", success_url=success_url,
        cancel_url=cancel_url, cause_id=cause_id, uow=uow, referral_code=referral_code,
    )  # fmt: skip


def open_portal(customer_ref: str, return_url: str) -> str:
    """The Customer Portal for the shopper, returning to a storefront page."""
    require_storefront_url(return_url, "return_url")
    return members.open_portal(customer_ref, return_url)
