"""The emulator's objects and parameters match the pinned stripe-python, which is generated from Stripe's
OpenAPI spec for the API version we pin: its resource classes annotate every field of each object (nested
ones included), and its params TypedDicts list every parameter each endpoint accepts."""

from __future__ import annotations

import json
import re
import sys
import typing
import urllib.request
from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator
from localdev.stripe_emulator import params as p
from localdev.stripe_emulator.objects import build
from localdev.stripe_emulator.resources import (
    balance_transactions,
    checkout,
    coupons,
    customers,
    events,
    invoices,
    payments,
    portal,
    prices,
    products,
    promotion_codes,
    subscriptions,
)

# Every object type the service reads, by its `object` value.
RESOURCES: dict[str, type[stripe.StripeObject]] = {
    "billing_portal.session": stripe.billing_portal.Session,
    "charge": stripe.Charge,
    "dispute": stripe.Dispute,
    "invoice_payment": stripe.InvoicePayment,
    "payment_intent": stripe.PaymentIntent,
    "refund": stripe.Refund,
    "checkout.session": stripe.checkout.Session,
    "coupon": stripe.Coupon,
    "customer_balance_transaction": stripe.CustomerBalanceTransaction,
    "discount": stripe.Discount,
    "promotion_code": stripe.PromotionCode,
    "customer": stripe.Customer,
    "event": stripe.Event,
    "invoice": stripe.Invoice,
    "line_item": stripe.InvoiceLineItem,
    "list": stripe.ListObject,
    "plan": stripe.Plan,
    "price": stripe.Price,
    "product": stripe.Product,
    "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem,
}
# Nullable fields Stripe leaves out of an object unless they apply: includable lists (`expand[]` or
# `include[]`), fields of deleted objects, and settings of UI modes or features the emulator does not offer.
ABSENT_UNLESS_THEY_APPLY: dict[str, set[str]] = {
    "Session": {  # checkout.session and billing_portal.session
        "line_items",
        "branding_settings",
        "excluded_payment_method_types",
        "name_collection",
        "optional_items",
        "presentment_details",
        "redirect_on_completion",
        "return_url",
        "tax_id_collection",
        "after_expiration",
    },
    "Customer": {
        "deleted",
        "cash_balance",
        "invoice_credit_balance",
        "sources",
        "subscriptions",
        "tax",
        "tax_ids",
        "business_name",
        "individual_name",
        "customer_account",
    },
    "Invoice": {"deleted", "payments", "confirmation_secret", "threshold_reason", "status_details"},
    "Price": {"deleted", "currency_options", "tiers"},
    "Plan": {"deleted", "tiers"},
    "Product": {"deleted"},
    "Coupon": {"deleted", "applies_to", "currency_options"},  # only when restricted; includable
    "Discount": {"deleted"},
    "Restrictions": {"currency_options"},
    # Payments: fields of features the emulator does not offer (Level 3 data, Connect transfers, Radar
    # sessions, multi-currency presentment, async refunds and their failures, smart dispute submission).
    "Charge": {"authorization_code", "level3", "presentment_details", "radar_options", "transfer"},
    "PaymentIntent": {"hooks", "payment_details", "payment_record", "presentment_details"},
    "AmountDetails": {"discount_amount", "error", "line_items", "shipping", "tax"},
    "Refund": {
        "description",
        "failure_balance_transaction",
        "failure_reason",
        "instructions_email",
        "next_action",
        "pending_reason",
        "presentment_details",
    },
    "Dispute": {
        "intended_submission_method",
        "network_reason_code",
    },  # promotion_code: only with minimums in other currencies
    "Subscription": {"presentment_details", "status_details"},
    "SubscriptionItem": {"deleted", "billed_until"},
    "Event": {"account", "context"},
    "Data": {"previous_attributes"},  # event.data: on `*.updated` events only
    "TotalDetails": {"breakdown"},  # includable
    "Issuer": {"account"},  # only for `type: account`
    "Liability": {"account"},  # only for `type: account`
}
# Optional fields that Stripe's spec does not make nullable: absent, or a value, never null. (stripe-python
# annotates nullable and optional fields alike as `Optional`, so the SDK alone cannot tell them apart.)
SENT_ONLY_WITH_A_VALUE: dict[str, set[str]] = {
    "SubscriptionDetails": {"subscription_proration_date"},  # only on previews of prorations
    "BillingMode": {"updated_at"},  # when the billing mode was adopted
    "Payment": {"charge", "payment_intent", "payment_record"},  # invoice_payment.payment, by its `type`
}
for _cls, _fields_ in SENT_ONLY_WITH_A_VALUE.items():
    ABSENT_UNLESS_THEY_APPLY.setdefault(_cls, set()).update(_fields_)
# Classes of options that Stripe sends only for what was configured (one key per payment method used).
# (Stripe's own samples send `fraud_details: {}` and `enhanced_evidence: {}`.)
ONLY_WHAT_IS_SET = {
    "PaymentMethodOptions",
    "Card",
    "PaymentMethodDetails",
    "DestinationDetails",
    "FraudDetails",
    "EnhancedEvidence",
    "EnhancedEligibility",
}


def _fields(cls: type) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        hints.update(getattr(klass, "__annotations__", {}))
    return {
        k: v
        for k, v in hints.items()
        if not k.startswith("_") and typing.get_origin(v) is not typing.ClassVar
    }


def _optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) is typing.Union and type(None) in typing.get_args(annotation)


def _literals(annotation: Any) -> set[str]:
    found: set[str] = set()
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            found |= {str(v) for v in typing.get_args(arg)}
        else:
            found |= _literals(arg)
    return found


def mismatches(value: dict[str, Any], cls: type, path: str) -> list[str]:
    """Where `value` differs from what the SDK's class says the object holds, at every depth."""
    fields = _fields(cls)
    found = []
    implicit = {"object"} if cls is stripe.ListObject else set()
    for key in sorted(set(value) - set(fields) - implicit):
        found.append(f"{path}.{key}: not a field of {cls.__qualname__}")
    for key in sorted(SENT_ONLY_WITH_A_VALUE.get(cls.__name__, set()) & set(value)):
        if value[key] is None:
            found.append(f"{path}.{key}: null (Stripe sends it with a value or leaves it out)")
    for key in sorted(set(fields) - set(value)):
        if not _optional(fields[key]):
            found.append(f"{path}.{key}: missing (always sent)")
        elif cls.__name__ not in ONLY_WHAT_IS_SET and key not in ABSENT_UNLESS_THEY_APPLY.get(
            cls.__name__, set()
        ):
            found.append(f"{path}.{key}: missing (sent as null when unset)")
    inner = getattr(cls, "_inner_class_types", {})
    for key, item in value.items():
        if key not in fields:
            continue
        allowed = _literals(fields[key])
        if allowed and isinstance(item, str) and item not in allowed:
            found.append(f"{path}.{key}: {item!r} is not one of {sorted(allowed)}")
        for index, element in enumerate(item if isinstance(item, list) else [item]):
            where = f"{path}.{key}[{index}]" if isinstance(item, list) else f"{path}.{key}"
            if not isinstance(element, dict):
                continue
            if isinstance(element.get("object"), str) and element["object"] in RESOURCES:
                found += mismatches(element, RESOURCES[element["object"]], where)
            elif key in inner:
                found += mismatches(element, inner[key], where)
    if cls is stripe.Event.Data and isinstance(value.get("object"), dict):
        obj = value["object"]
        found += mismatches(obj, RESOURCES[obj["object"]], f"{path}.object")
        previous = value.get("previous_attributes") or {}
        found += [
            f"{path}.previous_attributes.{k}: not a field"
            for k in set(previous) - set(_fields(RESOURCES[obj["object"]]))
        ]
    return found


def _get(emulator: Emulator, path: str) -> dict[str, Any]:
    request = urllib.request.Request(emulator.base_url + path, headers={"Authorization": "Bearer sk_test_x"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


@pytest.fixture
def lifecycle(stripe_client: stripe.StripeClient, emulator: Emulator, checkout: Any) -> dict[str, Any]:
    """A shopper's whole life through the emulator: every object type the service reads, as JSON."""
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    emulator.advance(subscription_id, "payment_failed")
    emulator.advance(subscription_id, "paid")
    stripe_client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={"customer": checkout.customer, "return_url": "https://shop.example/account"}
    )
    emulator.advance(subscription_id)
    return {
        "customer": _get(emulator, f"/v1/customers/{checkout.customer}"),
        "product": _get(emulator, "/v1/products/vip_monthly"),
        "prices": _get(emulator, "/v1/prices?lookup_keys[]=vip-monthly"),
        "checkout.session": _get(emulator, f"/v1/checkout/sessions/{checkout.id}"),
        "billing_portal.session": portal.to_dict(),
        "subscriptions": _get(emulator, f"/v1/subscriptions?customer={checkout.customer}&status=all"),
        "invoices": _get(emulator, f"/v1/invoices?customer={checkout.customer}"),
        "events": _get(emulator, "/v1/events?limit=100"),
        "customers": _get(emulator, "/v1/customers?email=ada@example.com"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "customer",
        "product",
        "prices",
        "checkout.session",
        "billing_portal.session",
        "subscriptions",
        "invoices",
        "events",
        "customers",
    ],
)
def test_every_emulated_object_has_exactly_the_fields_of_the_pinned_sdk(
    lifecycle: dict[str, Any], name: str
) -> None:
    value = lifecycle[name]

    found = mismatches(value, RESOURCES[value["object"]], name)

    assert not found, "\n".join(found)


@pytest.fixture
def growth(stripe_client: stripe.StripeClient, emulator: Emulator, monthly_price: Any) -> dict[str, Any]:
    """What the growth and events features use: discounts, balances, upcoming invoices, pauses, one-time
    Checkout, charges, refunds and disputes."""
    payer = stripe_client.v1.customers.create(params={"email": "payer@example.com"})
    paying = emulator.complete_checkout(
        stripe_client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": payer.id,
                "line_items": [{"price": monthly_price.id}],
                "success_url": "http://127.0.0.1:9/ok",
            }
        ).id
    )
    first_invoice = str(paying["invoice"])
    refund = emulator.refund(first_invoice, 100)
    dispute = emulator.dispute(first_invoice)
    gift = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [
                {"price_data": {"currency": "usd", "unit_amount": 1500, "product_data": {"name": "Gift"}}}
            ],
            "success_url": "http://127.0.0.1:9/thanks",
            "payment_intent_data": {"metadata": {"gift": "yes"}},
        }
    )
    gift_paid = emulator.complete_checkout(gift.id)
    coupon = stripe_client.v1.coupons.create(
        params={
            "percent_off": 100,
            "duration": "repeating",
            "duration_in_months": 2,
            "name": "Two months free",
        }
    )
    code = stripe_client.v1.promotion_codes.create(
        params={
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": "TWOFREE",
            "restrictions": {"first_time_transaction": True},
            "metadata": {"campaign": "spring"},
        }
    )
    customer = stripe_client.v1.customers.create(params={"email": "grow@example.com"})
    session = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": monthly_price.id}],
            "success_url": "http://127.0.0.1:9/ok",
            "discounts": [{"promotion_code": code.id}],
        }
    )
    subscription_id = emulator.complete_checkout(session.id)["subscription"]
    stripe_client.v1.customers.balance_transactions.create(
        customer.id, params={"amount": -250, "currency": "usd", "metadata": {"reason": "referral"}}
    )
    upcoming = emulator.upcoming(subscription_id)
    emulator.pause(subscription_id, "mark_uncollectible")
    emulator.advance(subscription_id)
    stripe_client.v1.subscriptions.update(
        subscription_id,
        params={"pause_collection": {"behavior": "keep_as_draft", "resumes_at": 2_000_000_000}},
    )
    emulator.advance(subscription_id)
    emulator.unpause(subscription_id)
    stripe_client.v1.subscriptions.pause(subscription_id)
    paused = _get(emulator, f"/v1/subscriptions/{subscription_id}")
    stripe_client.v1.subscriptions.resume(subscription_id)
    return {
        "refund": refund,
        "dispute": dispute,
        "charge": _get(emulator, f"/v1/charges/{dispute['charge']}"),
        "charges": _get(emulator, f"/v1/charges?customer={payer.id}&limit=100"),
        "invoice_payments": _get(emulator, f"/v1/invoice_payments?invoice={first_invoice}"),
        "payment_intent": _get(emulator, f"/v1/payment_intents/{gift_paid['payment_intent']}"),
        "payment checkout": _get(emulator, f"/v1/checkout/sessions/{gift.id}"),
        "coupon": _get(emulator, f"/v1/coupons/{coupon.id}"),
        "promotion_codes": _get(emulator, "/v1/promotion_codes?code=TWOFREE"),
        "checkout.session": _get(emulator, f"/v1/checkout/sessions/{session.id}"),
        "upcoming": upcoming,
        "paused": paused,
        "subscriptions": _get(
            emulator, f"/v1/subscriptions?customer={customer.id}&status=all&expand[]=data.discounts"
        ),
        "invoices": _get(emulator, f"/v1/invoices?customer={customer.id}"),
        "balance_transactions": _get(emulator, f"/v1/customers/{customer.id}/balance_transactions"),
        "events": _get(emulator, "/v1/events?limit=100"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "refund",
        "dispute",
        "charge",
        "charges",
        "invoice_payments",
        "payment_intent",
        "payment checkout",
        "coupon",
        "promotion_codes",
        "checkout.session",
        "upcoming",
        "paused",
        "subscriptions",
        "invoices",
        "events",
    ],
)
def test_the_growth_objects_have_exactly_the_fields_of_the_pinned_sdk(
    growth: dict[str, Any], name: str
) -> None:
    value = growth[name]

    found = mismatches(value, RESOURCES[value["object"]], name)

    assert not found, "\n".join(found)


def test_the_lifecycles_cover_every_object_type_the_service_reads(
    lifecycle: dict[str, Any], growth: dict[str, Any]
) -> None:
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            seen.add(str(node.get("object")))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk([lifecycle, growth])

    assert set(RESOURCES) <= seen


def test_the_field_check_catches_a_field_the_version_dropped() -> None:
    found = mismatches({"object": "list", "data": [], "has_more": False, "url": "/v1/x", "total_count": 0},
                       stripe.ListObject, "list")  # fmt: skip

    assert found == ["list.total_count: not a field of ListObject"]


# -- parameters ---------------------------------------------------------------------------------------

# Each parameter spec of the emulator and the SDK's TypedDict for the same endpoint.
ENDPOINT_PARAMS = [
    (customers.CUSTOMER, "stripe.params._customer_create_params", "CustomerCreateParams"),
    (customers.CUSTOMER, "stripe.params._customer_update_params", "CustomerUpdateParams"),
    (customers.CUSTOMER_LIST, "stripe.params._customer_list_params", "CustomerListParams"),
    (products.PRODUCT, "stripe.params._product_create_params", "ProductCreateParams"),
    (prices.PRICE, "stripe.params._price_create_params", "PriceCreateParams"),
    (prices.PRICE_UPDATE, "stripe.params._price_update_params", "PriceUpdateParams"),
    (prices.PRICE_LIST, "stripe.params._price_list_params", "PriceListParams"),
    (checkout.CHECKOUT, "stripe.params.checkout._session_create_params", "SessionCreateParams"),
    (portal.PORTAL, "stripe.params.billing_portal._session_create_params", "SessionCreateParams"),
    (
        subscriptions.SUBSCRIPTION_UPDATE,
        "stripe.params._subscription_update_params",
        "SubscriptionUpdateParams",
    ),
    (
        subscriptions.SUBSCRIPTION_CANCEL,
        "stripe.params._subscription_cancel_params",
        "SubscriptionCancelParams",
    ),
    (coupons.COUPON, "stripe.params._coupon_create_params", "CouponCreateParams"),
    (p.LIST, "stripe.params._coupon_list_params", "CouponListParams"),
    (
        promotion_codes.PROMOTION_CODE,
        "stripe.params._promotion_code_create_params",
        "PromotionCodeCreateParams",
    ),
    (
        promotion_codes.PROMOTION_CODE_UPDATE,
        "stripe.params._promotion_code_update_params",
        "PromotionCodeUpdateParams",
    ),
    (
        promotion_codes.PROMOTION_CODE_LIST,
        "stripe.params._promotion_code_list_params",
        "PromotionCodeListParams",
    ),
    (
        balance_transactions.BALANCE_TRANSACTION,
        "stripe.params._customer_balance_transaction_create_params",
        "CustomerBalanceTransactionCreateParams",
    ),
    (
        balance_transactions.BALANCE_TRANSACTION_LIST,
        "stripe.params._customer_balance_transaction_list_params",
        "CustomerBalanceTransactionListParams",
    ),
    (subscriptions.SUBSCRIPTION_PAUSE, "stripe.params._subscription_pause_params", "SubscriptionPauseParams"),
    (
        subscriptions.SUBSCRIPTION_RESUME,
        "stripe.params._subscription_resume_params",
        "SubscriptionResumeParams",
    ),
    (subscriptions.SUBSCRIPTION_LIST, "stripe.params._subscription_list_params", "SubscriptionListParams"),
    (invoices.INVOICE_LIST, "stripe.params._invoice_list_params", "InvoiceListParams"),
    (events.EVENT_LIST, "stripe.params._event_list_params", "EventListParams"),
    (payments.CHARGE_LIST, "stripe.params._charge_list_params", "ChargeListParams"),
    (
        payments.INVOICE_PAYMENT_LIST,
        "stripe.params._invoice_payment_list_params",
        "InvoicePaymentListParams",
    ),
    (p.EXPAND, "stripe.params._subscription_retrieve_params", "SubscriptionRetrieveParams"),
]


def unlisted_params(spec: p.Spec, typed: Any, module: Any, prefix: str = "") -> list[str]:
    """Parameters (and values) the emulator accepts that the SDK's TypedDict does not list."""
    annotations: dict[str, Any] = typed.__annotations__  # a TypedDict's own and inherited keys
    found = []
    for name, rule in spec.items():
        where = f"{prefix}[{name}]" if prefix else name
        if name not in annotations:
            found.append(where)
            continue
        text = _text(annotations[name])
        nested = rule[0] if isinstance(rule, list) else rule
        if isinstance(nested, dict):
            inner = [
                getattr(module, n) for n in re.findall(r"\b([A-Z]\w*Params\w*)\b", text) if hasattr(module, n)
            ]
            found += (
                unlisted_params(nested, inner[0], module, where) if inner else [f"{where}: not an object"]
            )
        allowed = getattr(rule, "allowed", None)
        literals = {
            v for group in re.findall(r"Literal\[([^\]]*)\]", text) for v in re.findall(r"'([^']*)'", group)
        }
        if allowed and literals:
            found += [f"{where}={value}" for value in allowed if value not in literals]
    return found


def _text(annotation: Any) -> str:
    """An annotation as text, forward references (`"Literal['a']|str"`) spelled out."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    return " ".join([getattr(annotation, "__name__", str(annotation)), *(_text(a) for a in args)])


@pytest.mark.parametrize(("spec", "module_name", "class_name"), ENDPOINT_PARAMS, ids=lambda v: str(v)[:40])
def test_the_emulator_accepts_only_parameters_the_pinned_sdk_lists(
    spec: p.Spec, module_name: str, class_name: str
) -> None:
    __import__(module_name)
    module = sys.modules[module_name]

    assert unlisted_params(spec, getattr(module, class_name), module) == []


def test_the_field_check_catches_a_nullable_field_left_out() -> None:
    product = build("product", id="prod_1", created=1, name="VIP", updated=1)
    del product["tax_details"]

    found = mismatches(product, stripe.Product, "product")

    assert found == ["product.tax_details: missing (sent as null when unset)"]


def test_the_field_check_catches_null_for_a_field_stripe_sends_only_with_a_value() -> None:
    details = {"metadata": {}, "subscription": "sub_1", "subscription_proration_date": None}

    found = mismatches(details, stripe.Invoice.Parent.SubscriptionDetails, "parent.subscription_details")

    assert found == [
        "parent.subscription_details.subscription_proration_date: null "
        "(Stripe sends it with a value or leaves it out)"
    ]


def test_a_flexible_billing_mode_says_when_it_was_adopted(lifecycle: dict[str, Any]) -> None:
    subscription = lifecycle["subscriptions"]["data"][0]

    assert subscription["billing_mode"]["type"] == "flexible"
    assert subscription["billing_mode"]["updated_at"] == subscription["created"]
    assert (
        "subscription_proration_date"
        not in lifecycle["invoices"]["data"][0]["parent"]["subscription_details"]
    )
