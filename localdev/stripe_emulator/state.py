"""The emulator's in-memory Stripe account: objects, their lifecycles, and the events they cause.

Every operation runs under one lock and returns the events it produced; the server delivers them
after releasing the lock (the API receiving a webhook may call back into the emulator).
Objects handed out are deep copies, so an event's `data.object` is the state at that moment.
"""

from __future__ import annotations

import calendar
import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localdev.stripe_emulator.objects import build, new_id

API_VERSION = "2026-10-28.endive"
Obj = dict[str, Any]


class StripeError(Exception):
    """An error in Stripe's shape: `{"error": {"type", "code", "message", "param"}}` with an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.type, self.code, self.param, self.message = status, type, code, param, message

    def body(self) -> Obj:
        error: Obj = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param)


def add_interval(start: int, interval: str, count: int) -> int:
    """`start` moved by `count` intervals, on the calendar (Stripe bills Jan 31 → Feb 28 → Mar 31 ...)."""
    moment = datetime.fromtimestamp(start, UTC)
    if interval == "day":
        return start + 86_400 * count
    if interval == "week":
        return start + 7 * 86_400 * count
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


@dataclass
class Account:
    """Everything one emulated Stripe account holds."""

    customers: dict[str, Obj] = field(default_factory=dict)
    products: dict[str, Obj] = field(default_factory=dict)
    prices: dict[str, Obj] = field(default_factory=dict)
    checkout_sessions: dict[str, Obj] = field(default_factory=dict)
    # What a session will create on payment (price, quantity, subscription_data), kept off the object.
    checkout_terms: dict[str, Obj] = field(default_factory=dict)
    portal_sessions: dict[str, Obj] = field(default_factory=dict)
    subscriptions: dict[str, Obj] = field(default_factory=dict)
    invoices: dict[str, Obj] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    # Idempotency-Key → (request fingerprint, status, response body)
    idempotency: dict[str, tuple[str, int, Obj]] = field(default_factory=dict)
    # Every Stripe API request received, as `METHOD /path`, oldest first (tests count them).
    requests: list[str] = field(default_factory=list)


class Stripe:
    """The emulated account and its operations. `base_url` builds hosted page URLs."""

    def __init__(self, base_url: str = "") -> None:
        self.base_url = base_url
        self.lock = threading.RLock()
        self.account = Account()
        self._request: Obj = {"id": None, "idempotency_key": None}

    def reset(self) -> None:
        with self.lock:
            self.account = Account()

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def now() -> int:
        return int(time.time())

    def _event(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = build(
            "event",
            id=new_id("evt"),
            api_version=API_VERSION,
            created=self.now(),
            data=data,
            pending_webhooks=1,
            request=dict(self._request),
            type=type_,
        )
        self.account.events.append(event)
        return event

    def set_request(self, request_id: str | None, idempotency_key: str | None) -> None:
        """The API request that the next events are attributed to (None for automatic ones)."""
        self._request = {"id": request_id, "idempotency_key": idempotency_key}

    def get(self, collection: str, kind: str, object_id: str) -> Obj:
        found: Obj | None = getattr(self.account, collection).get(object_id)
        if found is None:
            raise missing(kind, object_id)
        return found

    # -- customers -----------------------------------------------------------------------------

    def create_customer(self, params: Obj) -> tuple[Obj, list[Obj]]:
        customer = build(
            "customer",
            id=new_id("cus", 14),
            address=params.get("address"),
            balance=0,
            created=self.now(),
            currency=None,
            default_source=None,
            delinquent=False,
            description=params.get("description"),
            discount=None,
            email=params.get("email"),
            invoice_prefix=new_id("", 8)[1:].upper(),
            invoice_settings={
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            metadata=dict(params.get("metadata") or {}),
            name=params.get("name"),
            next_invoice_sequence=1,
            phone=params.get("phone"),
            preferred_locales=list(params.get("preferred_locales") or []),
            shipping=None,
            tax_exempt="none",
            test_clock=None,
        )
        self.account.customers[customer["id"]] = customer
        return customer, [self._event("customer.created", customer)]

    def update_customer(self, customer_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
        customer = self.get("customers", "customer", customer_id)
        previous = {key: customer[key] for key in params if key in customer}
        for key in ("email", "name", "description", "phone"):
            if key in params:
                customer[key] = params[key] or None
        if "metadata" in params:
            customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
        return customer, [self._event("customer.updated", customer, previous)]

    # -- products and prices ------------------------------------------------------------------

    def create_product(self, params: Obj) -> tuple[Obj, list[Obj]]:
        product_id = params.get("id") or new_id("prod", 14)
        if product_id in self.account.products:
            raise StripeError(
                f"Product already exists: '{product_id}'", code="resource_already_exists", param="id"
            )
        now = self.now()
        product = build(
            "product",
            id=product_id,
            active=params.get("active", True),
            created=now,
            default_price=None,
            description=params.get("description"),
            images=[],
            marketing_features=[],
            metadata=dict(params.get("metadata") or {}),
            name=params["name"],
            package_dimensions=None,
            shippable=None,
            statement_descriptor=None,
            tax_code=None,
            unit_label=None,
            updated=now,
            url=None,
            type="service",
        )
        self.account.products[product_id] = product
        return product, [self._event("product.created", product)]

    def update_product(self, product_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
        product = self.get("products", "product", product_id)
        previous = {key: product[key] for key in params if key in product and key != "metadata"}
        for key in ("name", "active", "description"):
            if key in params:
                product[key] = params[key]
        if "metadata" in params:
            product["metadata"] = merge_metadata(product["metadata"], params["metadata"])
        product["updated"] = self.now()
        return product, [self._event("product.updated", product, previous)]

    def create_price(self, params: Obj) -> tuple[Obj, list[Obj]]:
        product_id = params["product"]
        if product_id not in self.account.products:
            raise missing("product", product_id, param="product")
        events: list[Obj] = []
        lookup_key = params.get("lookup_key")
        if lookup_key:
            holder = next((p for p in self.account.prices.values() if p["lookup_key"] == lookup_key), None)
            if holder is not None:
                if not params.get("transfer_lookup_key"):
                    raise StripeError(
                        f"A price ({holder['id']}) already uses that lookup key.",
                        code="lookup_key_in_use",
                        param="lookup_key",
                    )
                holder["lookup_key"] = None
                events.append(self._event("price.updated", holder, {"lookup_key": lookup_key}))
        recurring = params.get("recurring")
        price = build(
            "price",
            id=new_id("price"),
            active=params.get("active", True),
            billing_scheme="per_unit",
            created=self.now(),
            currency=params["currency"],
            custom_unit_amount=None,
            lookup_key=lookup_key,
            metadata=dict(params.get("metadata") or {}),
            nickname=params.get("nickname"),
            product=product_id,
            recurring=None
            if recurring is None
            else {
                "interval": recurring["interval"],
                "interval_count": recurring.get("interval_count", 1),
                "meter": None,
                "usage_type": "licensed",
                "trial_period_days": recurring.get("trial_period_days"),
            },
            tax_behavior=params.get("tax_behavior", "unspecified"),
            tiers_mode=None,
            transform_quantity=None,
            type="one_time" if recurring is None else "recurring",
            unit_amount=params["unit_amount"],
            unit_amount_decimal=str(params["unit_amount"]),
        )
        self.account.prices[price["id"]] = price
        events.append(self._event("price.created", price))
        return price, events

    def update_price(self, price_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
        price = self.get("prices", "price", price_id)
        previous = {key: price[key] for key in params if key in price and key != "metadata"}
        if params.get("lookup_key"):
            holder = next(
                (p for p in self.account.prices.values() if p["lookup_key"] == params["lookup_key"]), None
            )
            if holder is not None and holder is not price:
                if not params.get("transfer_lookup_key"):
                    raise StripeError(
                        f"A price ({holder['id']}) already uses that lookup key.",
                        code="lookup_key_in_use",
                        param="lookup_key",
                    )
                holder["lookup_key"] = None
        for key in ("active", "nickname", "lookup_key"):
            if key in params:
                price[key] = params[key] or (False if key == "active" else None)
        if "metadata" in params:
            price["metadata"] = merge_metadata(price["metadata"], params["metadata"])
        return price, [self._event("price.updated", price, previous)]

    def list_prices(self, params: Obj) -> list[Obj]:
        prices = list(self.account.prices.values())
        if "lookup_keys" in params:
            wanted = set(params["lookup_keys"])
            prices = [p for p in prices if p["lookup_key"] in wanted]
        for key in ("product", "currency", "type"):
            if key in params:
                prices = [p for p in prices if p[key] == params[key]]
        if "active" in params:
            prices = [p for p in prices if p["active"] == params["active"]]
        return prices

    # -- checkout ------------------------------------------------------------------------------

    def create_checkout_session(self, params: Obj) -> tuple[Obj, list[Obj]]:
        mode = params.get("mode")
        if mode != "subscription":
            raise StripeError("This emulator supports Checkout in `subscription` mode only.", param="mode")
        customer_id = params.get("customer")
        if customer_id is not None and customer_id not in self.account.customers:
            raise missing("customer", customer_id, param="customer")
        if customer_id and params.get("customer_email"):
            raise StripeError(
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer_email",
            )
        line_items = params.get("line_items") or []
        if len(line_items) != 1:
            raise StripeError("Pass exactly one line item with a recurring `price`.", param="line_items")
        price_id = line_items[0].get("price")
        if not price_id:
            raise StripeError("Missing required param: line_items[0][price].", param="line_items[0][price]")
        price = self.account.prices.get(price_id)
        if price is None:
            raise missing("price", price_id, param="line_items[0][price]")
        if price["type"] != "recurring":
            raise StripeError(
                "You must specify at least one recurring price in `subscription` mode.",
                param="line_items[0][price]",
            )
        quantity = line_items[0].get("quantity", 1)
        subscription_data = params.get("subscription_data") or {}
        trial_days = subscription_data.get("trial_period_days")
        amount = 0 if trial_days else price["unit_amount"] * quantity
        now = self.now()
        session_id = new_id("cs_test", 58)
        email = params.get("customer_email") or (
            self.account.customers[customer_id]["email"] if customer_id else None
        )
        session = build(
            "checkout.session",
            id=session_id,
            adaptive_pricing={"enabled": False},
            after_expiration=None,
            allow_promotion_codes=params.get("allow_promotion_codes"),
            allowed_payment_method_types=params.get("allowed_payment_method_types"),
            amount_subtotal=amount,
            amount_total=amount,
            automatic_tax={"enabled": False, "liability": None, "provider": None, "status": None},
            billing_address_collection=params.get("billing_address_collection"),
            cancel_url=params.get("cancel_url"),
            client_reference_id=params.get("client_reference_id"),
            client_secret=None,
            collected_information=None,
            consent=None,
            consent_collection=None,
            created=now,
            currency=price["currency"],
            currency_conversion=None,
            custom_fields=[],
            custom_text={
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            customer=customer_id,
            customer_account=None,
            customer_creation=None if customer_id else "always",
            customer_details=None,
            customer_email=params.get("customer_email"),
            discounts=[],
            expires_at=now + 24 * 3600,
            integration_identifier=None,
            invoice=None,
            invoice_creation=None,
            locale=params.get("locale"),
            managed_payments={"enabled": False},
            metadata=dict(params.get("metadata") or {}),
            mode="subscription",
            origin_context=None,
            payment_intent=None,
            payment_link=None,
            payment_method_collection="always",
            payment_method_configuration_details=None,
            payment_method_options={"card": {"request_three_d_secure": "automatic"}},
            payment_method_types=["card"],
            payment_status="unpaid",
            permissions=None,
            phone_number_collection={"enabled": False},
            recovered_from=None,
            saved_payment_method_options={
                "allow_redisplay_filters": ["always"],
                "payment_method_remove": None,
                "payment_method_save": None,
            },
            setup_intent=None,
            shipping_address_collection=None,
            shipping_cost=None,
            shipping_options=[],
            status="open",
            submit_type=None,
            subscription=None,
            success_url=params.get("success_url"),
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            ui_mode="hosted_page",
            url=f"{self.base_url}/checkout/{session_id}",
            wallet_options=None,
        )
        self.account.checkout_terms[session_id] = {
            "price": price_id,
            "quantity": quantity,
            "email": email,
            "subscription_data": subscription_data,
        }
        self.account.checkout_sessions[session_id] = session
        return session, []

    def complete_checkout(self, session_id: str, outcome: str) -> tuple[Obj, list[Obj]]:
        """The shopper pays on the hosted page: a subscription and its first invoice, or a decline."""
        session = self.get("checkout_sessions", "checkout.session", session_id)
        if session["status"] != "open":
            raise StripeError(
                f"This Checkout Session is {session['status']} and can no longer be paid.",
                code="checkout_session_not_open",
            )
        if session["expires_at"] <= self.now():
            session["status"] = "expired"
            return session, [self._event("checkout.session.expired", session)]
        if outcome == "card_declined":
            # As on Stripe: the page shows the decline, the session stays open, nothing is created.
            return session, []
        if outcome != "succeeded":
            raise StripeError("outcome must be `succeeded` or `card_declined`.", param="outcome")
        events: list[Obj] = []
        extra = self.account.checkout_terms[session_id]
        customer_id = session["customer"]
        if customer_id is None:
            customer, created = self.create_customer({"email": extra["email"]})
            customer_id = customer["id"]
            events += created
        customer = self.account.customers[customer_id]
        payment_method = new_id("pm")
        customer["invoice_settings"]["default_payment_method"] = payment_method
        subscription_data = extra["subscription_data"]
        subscription, sub_events = self._start_subscription(
            customer_id,
            extra["price"],
            extra["quantity"],
            metadata=dict(subscription_data.get("metadata") or {}),
            trial_days=subscription_data.get("trial_period_days"),
            payment_method=payment_method,
        )
        events += sub_events
        session.update(
            {
                "customer": customer_id,
                "customer_details": {
                    "address": None,
                    "business_name": None,
                    "email": extra["email"] or customer["email"],
                    "individual_name": None,
                    "name": customer["name"],
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
                "invoice": subscription["latest_invoice"],
                "payment_status": "no_payment_required" if session["amount_total"] == 0 else "paid",
                "status": "complete",
                "subscription": subscription["id"],
            }
        )
        events.append(self._event("checkout.session.completed", session))
        return session, events

    def expire_checkout(self, session_id: str) -> tuple[Obj, list[Obj]]:
        session = self.get("checkout_sessions", "checkout.session", session_id)
        if session["status"] != "open":
            raise StripeError(f"Only open sessions can be expired; this one is {session['status']}.")
        session["status"] = "expired"
        return session, [self._event("checkout.session.expired", session)]

    def create_portal_session(self, params: Obj) -> tuple[Obj, list[Obj]]:
        customer_id = params["customer"]
        if customer_id not in self.account.customers:
            raise missing("customer", customer_id, param="customer")
        session_id = new_id("bps")
        session = build(
            "billing_portal.session",
            id=session_id,
            configuration="bpc_emulator_default",
            created=self.now(),
            customer=customer_id,
            customer_account=None,
            flow=None,
            locale=params.get("locale"),
            on_behalf_of=None,
            return_url=params.get("return_url"),
            url=f"{self.base_url}/portal/{session_id}",
        )
        self.account.portal_sessions[session_id] = session
        return session, []

    # -- subscriptions -------------------------------------------------------------------------

    def _item(self, subscription_id: str, price: Obj, quantity: int, start: int, end: int) -> Obj:
        recurring = price["recurring"]
        plan = build(
            "plan",
            id=price["id"],
            active=price["active"],
            amount=price["unit_amount"],
            amount_decimal=price["unit_amount_decimal"],
            billing_scheme="per_unit",
            created=price["created"],
            currency=price["currency"],
            interval=recurring["interval"],
            interval_count=recurring["interval_count"],
            metadata=price["metadata"],
            meter=None,
            nickname=price["nickname"],
            product=price["product"],
            tiers_mode=None,
            transform_usage=None,
            trial_period_days=recurring["trial_period_days"],
            usage_type="licensed",
        )
        return build(
            "subscription_item",
            id=new_id("si", 14),
            billing_thresholds=None,
            created=start,
            current_period_start=start,
            current_period_end=end,
            discounts=[],
            metadata={},
            plan=plan,
            price=copy.deepcopy(price),
            quantity=quantity,
            subscription=subscription_id,
            tax_rates=[],
        )

    def _start_subscription(
        self,
        customer_id: str,
        price_id: str,
        quantity: int,
        *,
        metadata: Obj,
        trial_days: int | None,
        payment_method: str,
    ) -> tuple[Obj, list[Obj]]:
        price = self.account.prices[price_id]
        recurring = price["recurring"]
        now = self.now()
        subscription_id = new_id("sub")
        if trial_days:
            end = now + int(trial_days) * 86_400
        else:
            end = add_interval(now, recurring["interval"], recurring["interval_count"])
        item = self._item(subscription_id, price, quantity, now, end)
        subscription = build(
            "subscription",
            id=subscription_id,
            application=None,
            application_fee_percent=None,
            automatic_tax={"disabled_reason": None, "enabled": False, "liability": None},
            billing_cycle_anchor=end if trial_days else now,
            billing_cycle_anchor_config=None,
            billing_mode={
                "type": "flexible",
                "flexible": {"proration_discounts": "included"},
                "updated_at": None,
            },
            billing_schedules=[],
            billing_thresholds=None,
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            cancellation_details={"comment": None, "feedback": None, "feedback_option": None, "reason": None},
            collection_method="charge_automatically",
            created=now,
            currency=price["currency"],
            customer=customer_id,
            customer_account=None,
            days_until_due=None,
            default_payment_method=payment_method,
            default_source=None,
            default_tax_rates=[],
            description=None,
            discounts=[],
            ended_at=None,
            invoice_settings={
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            items={
                "object": "list",
                "data": [item],
                "has_more": False,
                "url": f"/v1/subscription_items?subscription={subscription_id}",
            },
            latest_invoice=None,
            managed_payments={"enabled": False},
            metadata=metadata,
            next_pending_invoice_item_invoice=None,
            on_behalf_of=None,
            pause_collection=None,
            payment_settings={
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            pending_invoice_item_interval=None,
            pending_setup_intent=None,
            pending_update=None,
            schedule=None,
            start_date=now,
            status="incomplete",
            test_clock=None,
            transfer_data=None,
            trial_end=end if trial_days else None,
            trial_settings={
                "end_behavior": {"billing_cycle_anchor": None, "missing_payment_method": "create_invoice"}
            },
            trial_start=now if trial_days else None,
        )
        self.account.subscriptions[subscription_id] = subscription
        events = [self._event("customer.subscription.created", subscription)]
        invoice, invoice_events = self._invoice(
            subscription,
            "subscription_create",
            0 if trial_days else price["unit_amount"] * quantity,
            now,
            end,
        )
        events += invoice_events
        events += self._pay(invoice)
        previous = {"status": subscription["status"], "latest_invoice": subscription["latest_invoice"]}
        subscription["status"] = "trialing" if trial_days else "active"
        subscription["latest_invoice"] = invoice["id"]
        events.append(self._event("customer.subscription.updated", subscription, previous))
        return subscription, events

    def _invoice(
        self, subscription: Obj, reason: str, amount: int, start: int, end: int, *, proration: bool = False
    ) -> tuple[Obj, list[Obj]]:
        customer = self.account.customers[subscription["customer"]]
        item = subscription["items"]["data"][0]
        price = item["price"]
        invoice_id = new_id("in")
        now = self.now()
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        line = build(
            "line_item",
            id=new_id("il"),
            amount=amount,
            currency=price["currency"],
            description=(
                f"Remaining time on {item['quantity']} × {self._product_name(price)} after a plan change"
                if proration
                else f"{item['quantity']} × {self._product_name(price)} "
                f"(at {price['unit_amount']} {price['currency']} / {price['recurring']['interval']})"
            ),
            discount_amounts=[],
            discountable=True,
            discounts=[],
            invoice=invoice_id,
            metadata={},
            parent={
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            period={"end": end, "start": start},
            pretax_credit_amounts=[],
            pricing={
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
            quantity=item["quantity"],
            quantity_decimal=str(item["quantity"]),
            subscription=subscription["id"],
            subtotal=amount,
            taxes=[],
        )
        invoice = build(
            "invoice",
            id=invoice_id,
            account_country="US",
            account_name="VIP Rewards (emulated)",
            account_tax_ids=None,
            amount_due=amount,
            amount_overpaid=0,
            amount_paid=0,
            amount_paid_off_stripe=0,
            amount_remaining=amount,
            amount_shipping=0,
            application=None,
            attempt_count=0,
            attempted=False,
            auto_advance=True,
            automatic_tax={
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            automatically_finalizes_at=None,
            billing_reason=reason,
            collection_method="charge_automatically",
            created=now,
            currency=price["currency"],
            custom_fields=None,
            customer=customer["id"],
            customer_account=None,
            customer_address=None,
            customer_email=customer["email"],
            customer_name=customer["name"],
            customer_phone=None,
            customer_shipping=None,
            customer_tax_exempt="none",
            customer_tax_ids=[],
            default_payment_method=None,
            default_source=None,
            default_tax_rates=[],
            description=None,
            discounts=[],
            due_date=None,
            effective_at=now,
            ending_balance=0,
            footer=None,
            from_invoice=None,
            hosted_invoice_url=f"{self.base_url}/invoice/{invoice_id}",
            invoice_pdf=None,
            issuer={"type": "self"},
            last_finalization_error=None,
            latest_revision=None,
            lines={
                "object": "list",
                "data": [line],
                "has_more": False,
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            metadata={},
            next_payment_attempt=None,
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            on_behalf_of=None,
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]),
                    "subscription": subscription["id"],
                    "subscription_proration_date": None,
                },
                "type": "subscription_details",
            },
            payment_settings={
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            period_end=start,
            period_start=start,
            post_payment_credit_notes_amount=0,
            pre_payment_credit_notes_amount=0,
            receipt_number=None,
            rendering=None,
            shipping_cost=None,
            shipping_details=None,
            starting_balance=0,
            statement_descriptor=None,
            status="open",
            status_transitions={
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            subtotal=amount,
            subtotal_excluding_tax=amount,
            test_clock=None,
            total=amount,
            total_discount_amounts=[],
            total_excluding_tax=amount,
            total_pretax_credit_amounts=[],
            total_taxes=[],
            webhooks_delivered_at=now,
        )
        self.account.invoices[invoice_id] = invoice
        draft = copy.deepcopy(invoice)
        draft["status"] = "draft"
        draft["status_transitions"]["finalized_at"] = None
        events = [self._event("invoice.created", draft), self._event("invoice.finalized", invoice)]
        return invoice, events

    def _product_name(self, price: Obj) -> str:
        product = self.account.products.get(price["product"])
        return str(product["name"]) if product else str(price["product"])

    def _pay(self, invoice: Obj) -> list[Obj]:
        now = self.now()
        invoice.update(
            {
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "attempt_count": invoice["attempt_count"] + (1 if invoice["amount_due"] else 0),
                "attempted": True,
                "next_payment_attempt": None,
                "status": "paid",
            }
        )
        invoice["status_transitions"]["paid_at"] = now
        return [self._event("invoice.paid", invoice), self._event("invoice.payment_succeeded", invoice)]

    def _fail(self, invoice: Obj, retry_at: int | None) -> list[Obj]:
        invoice.update(
            {
                "attempt_count": invoice["attempt_count"] + 1,
                "attempted": True,
                "next_payment_attempt": retry_at,
            }
        )
        return [self._event("invoice.payment_failed", invoice)]

    def update_subscription(self, subscription_id: str, params: Obj) -> tuple[Obj, list[Obj]]:
        subscription = self.get("subscriptions", "subscription", subscription_id)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                f"A canceled subscription can only update its cancellation_details and metadata. "
                f"({subscription_id} is {subscription['status']})",
                param=next(iter(params), None),
            )
        previous: Obj = {}
        events: list[Obj] = []
        now = self.now()
        if "metadata" in params:
            previous["metadata"] = copy.deepcopy(subscription["metadata"])
            subscription["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
        if "cancel_at_period_end" in params:
            wanted = bool(params["cancel_at_period_end"])
            if wanted != subscription["cancel_at_period_end"]:
                previous.update(
                    {
                        "cancel_at": subscription["cancel_at"],
                        "cancel_at_period_end": subscription["cancel_at_period_end"],
                        "canceled_at": subscription["canceled_at"],
                        "cancellation_details": copy.deepcopy(subscription["cancellation_details"]),
                    }
                )
                end = subscription["items"]["data"][0]["current_period_end"]
                subscription["cancel_at_period_end"] = wanted
                subscription["cancel_at"] = end if wanted else None
                subscription["canceled_at"] = now if wanted else None
                subscription["cancellation_details"] = {
                    "comment": None,
                    "feedback": None,
                    "feedback_option": None,
                    "reason": "cancellation_requested" if wanted else None,
                }
        if "items" in params:
            events += self._switch_price(subscription, params, previous)
        if previous:
            events.insert(0, self._event("customer.subscription.updated", subscription, previous))
        return subscription, events

    def _switch_price(self, subscription: Obj, params: Obj, previous: Obj) -> list[Obj]:
        items = params["items"]
        if len(items) != 1:
            raise StripeError("Update exactly one subscription item.", param="items")
        change = items[0]
        item = subscription["items"]["data"][0]
        if change.get("id") not in (None, item["id"]):
            raise missing("subscription_item", change["id"], param="items[0][id]")
        price_id = change.get("price")
        if not price_id:
            raise StripeError("Missing required param: items[0][price].", param="items[0][price]")
        price = self.account.prices.get(price_id)
        if price is None:
            raise missing("price", price_id, param="items[0][price]")
        if price["currency"] != subscription["currency"]:
            raise StripeError(
                "The price's currency must match the subscription's currency.", param="items[0][price]"
            )
        behavior = params.get("proration_behavior", "create_prorations")
        if behavior not in ("create_prorations", "always_invoice", "none"):
            raise StripeError(f"Invalid proration_behavior: {behavior}", param="proration_behavior")
        now = self.now()
        old_price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        previous["items"] = copy.deepcopy(subscription["items"])
        same_interval = (old_price["recurring"]["interval"], old_price["recurring"]["interval_count"]) == (
            price["recurring"]["interval"],
            price["recurring"]["interval_count"],
        )
        quantity = change.get("quantity", item["quantity"])
        if same_interval:
            new_item = self._item(subscription["id"], price, quantity, start, end)
        else:
            # A new interval resets the billing cycle: a new period starts now (as Stripe does).
            new_end = add_interval(now, price["recurring"]["interval"], price["recurring"]["interval_count"])
            new_item = self._item(subscription["id"], price, quantity, now, new_end)
            subscription["billing_cycle_anchor"] = now
        new_item["id"], new_item["created"] = item["id"], item["created"]
        subscription["items"]["data"][0] = new_item
        events: list[Obj] = []
        if behavior == "always_invoice" or not same_interval:
            remaining = max(0.0, (end - now) / max(1, end - start))
            credit = round(old_price["unit_amount"] * item["quantity"] * remaining)
            if same_interval:
                charge = round(price["unit_amount"] * quantity * remaining)
            else:
                charge = price["unit_amount"] * quantity
            amount = max(0, charge - credit)
            invoice, invoice_events = self._invoice(
                subscription,
                "subscription_update",
                amount,
                new_item["current_period_start"],
                new_item["current_period_end"],
                proration=True,
            )
            events += invoice_events + self._pay(invoice)
            previous["latest_invoice"] = subscription["latest_invoice"]
            subscription["latest_invoice"] = invoice["id"]
        return events

    def cancel_subscription(
        self, subscription_id: str, reason: str = "cancellation_requested"
    ) -> tuple[Obj, list[Obj]]:
        subscription = self.get("subscriptions", "subscription", subscription_id)
        if subscription["status"] == "canceled":
            raise StripeError(
                f"This subscription is already canceled: '{subscription_id}'",
                code="resource_missing",
                status=404,
            )
        now = self.now()
        subscription.update(
            {
                "status": "canceled",
                "canceled_at": subscription["canceled_at"] or now,
                "ended_at": now,
                "cancel_at": subscription["cancel_at"] or now,
                "cancellation_details": {
                    "comment": None,
                    "feedback": None,
                    "feedback_option": None,
                    "reason": reason,
                },
            }
        )
        for invoice in self.account.invoices.values():
            if invoice["parent"]["subscription_details"]["subscription"] == subscription_id and (
                invoice["status"] == "open"
            ):
                invoice["status"] = "void"
                invoice["status_transitions"]["voided_at"] = now
        return subscription, [self._event("customer.subscription.deleted", subscription)]

    def advance_subscription(
        self, subscription_id: str, outcome: str, on_exhausted: str
    ) -> tuple[Obj, list[Obj]]:
        """End the current period now: renew, fail the renewal, or end a subscription set to cancel."""
        if outcome not in ("paid", "payment_failed"):
            raise StripeError("outcome must be `paid` or `payment_failed`.", param="outcome")
        if on_exhausted not in ("cancel", "mark_unpaid"):
            raise StripeError("on_exhausted must be `cancel` or `mark_unpaid`.", param="on_exhausted")
        subscription = self.get("subscriptions", "subscription", subscription_id)
        status = subscription["status"]
        if status in ("canceled", "incomplete_expired", "incomplete"):
            raise StripeError(f"Subscription {subscription_id} is {status}; it has no period to advance.")
        if subscription["cancel_at_period_end"]:
            return self.cancel_subscription(subscription_id, reason="cancellation_requested")
        open_invoice = self._open_invoice(subscription_id)
        if status in ("past_due", "unpaid") and open_invoice is not None:
            return self._retry(subscription, open_invoice, outcome, on_exhausted)
        return self._renew(subscription, outcome)

    def _open_invoice(self, subscription_id: str) -> Obj | None:
        return next(
            (
                inv
                for inv in reversed(self.account.invoices.values())
                if inv["parent"]["subscription_details"]["subscription"] == subscription_id
                and inv["status"] == "open"
            ),
            None,
        )

    def _renew(self, subscription: Obj, outcome: str) -> tuple[Obj, list[Obj]]:
        now = self.now()
        item = subscription["items"]["data"][0]
        price = item["price"]
        recurring = price["recurring"]
        previous: Obj = {"items": copy.deepcopy(subscription["items"])}
        end = add_interval(now, recurring["interval"], recurring["interval_count"])
        item["current_period_start"], item["current_period_end"] = now, end
        if subscription["status"] == "trialing":
            previous["trial_end"] = subscription["trial_end"]
            subscription["trial_end"] = now
        invoice, events = self._invoice(
            subscription, "subscription_cycle", price["unit_amount"] * item["quantity"], now, end
        )
        previous["latest_invoice"] = subscription["latest_invoice"]
        subscription["latest_invoice"] = invoice["id"]
        previous["status"] = subscription["status"]
        if outcome == "paid":
            events += self._pay(invoice)
            subscription["status"] = "active"
        else:
            events += self._fail(invoice, retry_at=now + 3 * 86_400)
            subscription["status"] = "past_due"
        if previous["status"] == subscription["status"]:
            del previous["status"]
        events.append(self._event("customer.subscription.updated", subscription, previous))
        return subscription, events

    def _retry(
        self, subscription: Obj, invoice: Obj, outcome: str, on_exhausted: str
    ) -> tuple[Obj, list[Obj]]:
        """A payment retry of the open invoice of a past_due subscription (Smart Retries, compressed)."""
        if outcome == "paid":
            events = self._pay(invoice)
            previous = {"status": subscription["status"]}
            subscription["status"] = "active"
            events.append(self._event("customer.subscription.updated", subscription, previous))
            return subscription, events
        events = self._fail(invoice, retry_at=None)
        if on_exhausted == "cancel":
            _, ended = self.cancel_subscription(subscription["id"], reason="payment_failed")
            return subscription, events + ended
        if subscription["status"] != "unpaid":
            previous = {"status": subscription["status"]}
            subscription["status"] = "unpaid"
            events.append(self._event("customer.subscription.updated", subscription, previous))
        return subscription, events

    def subscriptions_of(self, params: Obj) -> list[Obj]:
        subscriptions = list(self.account.subscriptions.values())
        status = params.get("status")
        if status is None:
            # Stripe's default list leaves canceled subscriptions out; `status=all` includes them.
            subscriptions = [s for s in subscriptions if s["status"] != "canceled"]
        elif status != "all":
            subscriptions = [s for s in subscriptions if s["status"] == status]
        if "customer" in params:
            subscriptions = [s for s in subscriptions if s["customer"] == params["customer"]]
        if "price" in params:
            subscriptions = [
                s for s in subscriptions if s["items"]["data"][0]["price"]["id"] == params["price"]
            ]
        return subscriptions

    def invoices_of(self, params: Obj) -> list[Obj]:
        invoices = list(self.account.invoices.values())
        if "customer" in params:
            invoices = [i for i in invoices if i["customer"] == params["customer"]]
        if "subscription" in params:
            invoices = [
                i
                for i in invoices
                if i["parent"]["subscription_details"]["subscription"] == params["subscription"]
            ]
        if "status" in params:
            invoices = [i for i in invoices if i["status"] == params["status"]]
        return invoices

    def events_of(self, params: Obj) -> list[Obj]:
        events = list(self.account.events)
        types = params.get("types") or ([params["type"]] if "type" in params else None)
        if types:
            events = [e for e in events if any(_type_matches(e["type"], t) for t in types)]
        created = params.get("created")
        if isinstance(created, dict):
            for op, check in (
                ("gt", int.__gt__),
                ("gte", int.__ge__),
                ("lt", int.__lt__),
                ("lte", int.__le__),
            ):
                if op in created:
                    events = [e for e in events if check(e["created"], int(created[op]))]
        elif created is not None:
            events = [e for e in events if e["created"] == int(created)]
        if "delivery_success" in params:
            delivered = bool(params["delivery_success"])
            events = [e for e in events if (e["pending_webhooks"] == 0) == delivered]
        return events


def _type_matches(event_type: str, pattern: str) -> bool:
    return event_type == pattern or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))


def merge_metadata(current: Obj, update: Obj | str) -> Obj:
    """Stripe's metadata update: keys are merged, an empty value removes a key, "" clears all."""
    if isinstance(update, str):
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "" or value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
