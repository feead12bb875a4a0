"""A year of demo history for `make dev`, so the dashboard and reports show something at once.

Several hundred shoppers over the twelve months ending now: guests and members on both plans,
orders (a few in euros), partial and full refunds, monthly renewals, a yearly plan's trial turning
into its first payment, a few cancellations, and a disbursement to each cause every month.
Each order is priced as a storefront prices it: the eligibility check first (members' discount and
free shipping while their perks are active), then the order with what the perks saved.

Nothing is written as raw items. Everything goes through the API in-process (`chalice.test.Client`:
the same routes, validation and services as `chalice local`) with the service clock set to the
moment each thing happened, replayed in time order:
- orders, refunds and disbursements are posted with their past `placed_at` / `paid_at`;
- each shopper joins through `POST /v1/members/{ref}/checkout` (a real Stripe customer and Checkout
  Session in the emulator); the subscription's life then arrives as Stripe's signed
  `customer.subscription.*` webhooks dated when they happened (the emulator keeps no clock, so it
  cannot produce past events itself), and each paid invoice is accounted for with the unit of work
  the `invoice.paid` webhook uses.
The history is deterministic (a fixed random seed), so every newcomer sees the same figures.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from localdev.seed import BRAND_KEY, CAUSES, STOREFRONT_KEY
from localdev.stripe_emulator.signing import sign_payload

# DEMO_SHOPPERS scales the history down (the browser tests use a small one).
SHOPPERS = int(os.environ.get("DEMO_SHOPPERS", "240"))
MEMBER_SHARE = 0.25
YEARLY_SHARE = 0.35
CANCELLATIONS = 3
MONTHS = 12
REFUND_SHARE = 0.07
EURO_SHARE = 0.08
DAY = 86_400
SEED = 2026
WORKERS = 3


@dataclass(order=True)
class Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class Summary:
    shoppers: int = 0
    members: int = 0
    orders: int = 0
    refunds: int = 0
    renewals: int = 0
    cancellations: int = 0
    disbursements: int = 0
    seconds: float = 0.0


class _Api:
    """The app in-process, with the service clock pinned to the moment being replayed."""

    def __init__(self, webhook_secret: str) -> None:
        from chalice.test import Client

        from app import app

        self._client = Client(app, stage_name="local")
        self._secret = webhook_secret.split(",")[0]

    def call(self, method: str, path: str, body: dict[str, Any] | None, key: str) -> Any:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        payload = json.dumps(body) if body is not None else None
        for _ in range(5):
            response = getattr(self._client.http, method.lower())(path, body=payload, headers=headers)
            # The eligibility check waits at most 1 s on the database: a busy machine may answer 503.
            if response.status_code != 503:
                break
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.body!r}")
        return json.loads(response.body) if response.body else None

    def webhook(self, event: dict[str, Any], at: int) -> None:
        payload = json.dumps(event).encode()
        headers = {
            "Stripe-Signature": sign_payload(payload, self._secret, at),
            "Content-Type": "application/json",
        }
        response = self._client.http.post("/v1/webhooks/stripe", body=payload, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"webhook {event['type']} → {response.status_code}: {response.body!r}")


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(moment: datetime, back: int) -> datetime:
    year, month = moment.year, moment.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = moment.year, moment.month + months
    while month > 12:
        year, month = year + 1, month - 12
    day = min(moment.day, 28)
    return moment.replace(year=year, month=month, day=day)


def _order_amount(rng: random.Random) -> int:
    """Baskets from about $15 to $250, most around $60, in whole cents."""
    return max(1500, min(25_000, int(rng.lognormvariate(8.9, 0.55))))


# Shipping the storefront charges: (method, amount) per currency; most shoppers pick standard.
SHIPPING = {"usd": (("standard", 595), ("express", 1495)), "eur": (("standard", 495), ("express", 1295))}
EXPRESS_SHARE = 0.15


class _History:
    def __init__(self, api: _Api, now: datetime, summary: Summary) -> None:
        from chalicelib.services import catalog

        self.api = api
        self.now = now
        self.summary = summary
        self.rng = random.Random(SEED)
        self.steps: list[Step] = []
        self.plans = catalog.plans()
        self.start = _month_start(now, MONTHS - 1)

    def at(self, moment: datetime, run: Callable[[], None]) -> None:
        if moment < self.now:
            self.steps.append(Step(moment, len(self.steps), run))

    def moment_in(self, first: datetime, last: datetime) -> datetime:
        span = max(1, int((last - first).total_seconds()))
        return first + timedelta(seconds=self.rng.randrange(span))

    # --- shoppers -------------------------------------------------------------------------------

    def plan(self, part: int, parts: int) -> None:
        """Every shopper's story (all workers draw the same), keeping the steps of this worker's share."""
        shoppers = [f"demo-{n:04d}" for n in range(1, SHOPPERS + 1)]
        members = self.rng.sample(shoppers, int(SHOPPERS * MEMBER_SHARE))
        monthly = [ref for ref in members if self.rng.random() >= YEARLY_SHARE]
        joined: dict[str, datetime] = {}
        for ref in members:
            # The club grows: later months see more joins (a month's weight is its number).
            month = self.rng.choices(range(MONTHS), weights=range(1, MONTHS + 1))[0]
            first = _month_start(self.now, MONTHS - 1 - month)
            joined[ref] = self.moment_in(first, min(self.now, _add_months(first, 1)))
        # A few early monthly members leave after some months (canceled at a period end).
        early = [ref for ref in monthly if joined[ref] < _add_months(self.start, 4)]
        leaving = set(self.rng.sample(early, min(CANCELLATIONS, len(early))))
        for n, ref in enumerate(shoppers):
            mine = n % parts == part
            kept = len(self.steps)
            if ref in joined:
                plan_id = "vip-monthly" if ref in monthly else "vip-yearly"
                self.membership(ref, plan_id, joined[ref], leaving=ref in leaving)
            self.orders(ref, joined.get(ref))
            if not mine:
                del self.steps[kept:]
                continue
            self.summary.shoppers += 1
            self.summary.members += ref in joined

    def membership(self, ref: str, plan_id: str, joined: datetime, *, leaving: bool) -> None:
        plan = self.plans[plan_id]
        cause_id = self.rng.choice(list(CAUSES))
        subscription_id = f"sub_demo_{ref}"
        state: dict[str, Any] = {}

        def checkout() -> None:
            started = self.api.call(
                "POST",
                f"/v1/members/{ref}/checkout",
                {
                    "plan_id": plan_id,
                    "email": f"{ref}@example.com",
                    "success_url": "https://shop.example.com/welcome",
                    "cancel_url": "https://shop.example.com/club",
                    "cause_id": cause_id,
                },
                STOREFRONT_KEY,
            )
            state["session"] = started["session_id"]
            from chalicelib.store.members import get_member

            member = get_member(ref)
            state["customer"] = member.stripe_customer_id if member else None

        def subscription(status: str, start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
            return {
                "id": subscription_id,
                "object": "subscription",
                "customer": None,
                "status": status,
                "created": int(joined.timestamp()),
                "start_date": int(joined.timestamp()),
                "cancel_at_period_end": False,
                "canceled_at": None,
                "ended_at": None,
                "metadata": {"customer_ref": ref, "plan_id": plan_id, "cause_id": cause_id},
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": f"si_demo_{ref}",
                            "object": "subscription_item",
                            "price": {
                                "id": plan.stripe_price_id,
                                "object": "price",
                                "lookup_key": plan_id,
                                "metadata": {"plan_id": plan_id},
                                "unit_amount": plan.amount,
                                "currency": plan.currency,
                            },
                            "current_period_start": int(start.timestamp()),
                            "current_period_end": int(end.timestamp()),
                        }
                    ],
                },
                **extra,
            }

        def deliver(event_type: str, moment: datetime, obj: dict[str, Any]) -> Callable[[], None]:
            def run() -> None:
                state["events"] = state.get("events", 0) + 1
                obj["customer"] = state.get("customer")
                event = {
                    "id": f"evt_demo_{ref}_{state['events']:03d}",
                    "object": "event",
                    "type": event_type,
                    "created": int(moment.timestamp()),
                    "livemode": False,
                    "data": {"object": obj},
                }
                self.api.webhook(event, int(moment.timestamp()))

            return run

        def paid(invoice: int, moment: datetime) -> Callable[[], None]:
            def run() -> None:
                # What `invoice.paid` does once it knows the subscription (the webhook reads it from
                # Stripe, which does not hold these past subscriptions): record the invoice on the
                # member and its renewal pledge, in one transaction.
                from chalicelib.domain.member import PaidInvoice
                from chalicelib.services import members
                from chalicelib.services.stripe_events import account_for_invoice
                from chalicelib.services.unit_of_work import on_dynamodb

                bill = PaidInvoice(
                    f"in_demo_{ref}_{invoice}", subscription_id, plan.amount, plan.currency, moment
                )

                def decide(current: Any, unit: Any) -> Any:
                    if current is None:
                        return None
                    account_for_invoice(current, bill, unit)
                    return current

                members.change_member(ref, decide, moment, on_dynamodb())
                self.summary.renewals += 1

            return run

        self.at(joined, checkout)
        period_start = joined
        if plan.trial_days:
            trial_end = joined + timedelta(days=plan.trial_days)
            created = subscription("trialing", joined, trial_end)
            self.at(joined + timedelta(seconds=5), deliver("customer.subscription.created", joined, created))
            period_start = trial_end
        invoice = 0
        renewals = self.rng.randint(2, 5) if leaving else None
        months = 12 if plan.interval == "year" else 1
        while period_start < self.now:
            period_end = _add_months(period_start, months)
            invoice += 1
            moment = period_start + timedelta(seconds=5)
            kind = "customer.subscription.created" if invoice == 1 and not plan.trial_days else None
            snapshot = subscription("active", period_start, period_end)
            self.at(moment, deliver(kind or "customer.subscription.updated", moment, snapshot))
            self.at(moment + timedelta(seconds=1), paid(invoice, moment + timedelta(seconds=1)))
            if renewals is not None and invoice == renewals:
                # Canceled at the period end: the subscription ends then, and perks with it.
                ends = period_end
                ended = subscription(
                    "canceled",
                    period_start,
                    period_end,
                    canceled_at=int(ends.timestamp()),
                    ended_at=int(ends.timestamp()),
                )

                self.at(ends, self.counted(deliver("customer.subscription.deleted", ends, ended)))
                return
            period_start = period_end

    def counted(self, run: Callable[[], None]) -> Callable[[], None]:
        def counting() -> None:
            run()
            self.summary.cancellations += 1

        return counting

    def orders(self, ref: str, joined: datetime | None) -> None:
        count = self.rng.randint(2, 7) if joined else self.rng.choice([1, 1, 1, 2, 2, 3])
        first_order = self.moment_in(self.start, self.now)
        for n in range(1, count + 1):
            placed = first_order if n == 1 else self.moment_in(self.start, self.now)
            if joined and n > 1 and self.rng.random() < 0.7:
                placed = self.moment_in(min(joined, self.now), self.now)
            self.order(ref, f"{ref}-order-{n}", placed, member=bool(joined and placed > joined))

    def order(self, ref: str, order_id: str, placed: datetime, *, member: bool) -> None:
        """A checkout as a storefront runs it: the eligibility check prices the cart (a member's
        discount and free shipping when their perks are active then), and the order reports the
        price paid with what the perks saved."""
        currency = "eur" if self.rng.random() < EURO_SHARE else "usd"
        subtotal = _order_amount(self.rng)
        method, shipping = SHIPPING[currency][self.rng.random() < EXPRESS_SHARE]
        refund_share = None
        refunded = placed
        if self.rng.random() < REFUND_SHARE:
            refund_share = 1.0 if self.rng.random() < 0.25 else self.rng.uniform(0.2, 0.6)
            refunded = placed + timedelta(days=self.rng.randint(2, 20))
        paid: dict[str, int] = {}

        def place() -> None:
            cart = {
                "customer_ref": ref,
                "currency": currency,
                "items": [{"sku": "demo-basket", "unit_amount": subtotal, "quantity": 1}],
                "shipping": {"method": method, "amount": shipping},
            }
            savings = {"member_discount": 0, "shipping": 0}
            # Before joining (or never having joined) a shopper saves nothing: the check is only
            # needed once they have joined, and it tells whether their perks are active then.
            if member:
                perks = self.api.call("POST", "/v1/eligibility", cart, STOREFRONT_KEY)
                savings = {
                    "member_discount": perks["member_discount"]["amount"],
                    "shipping": perks["shipping"]["discount"],
                }
            paid["amount"] = subtotal - savings["member_discount"] + shipping - savings["shipping"]
            body = {
                "order_id": order_id,
                "customer_ref": ref,
                "currency": currency,
                "amount": paid["amount"],
                "placed_at": _iso(placed),
                "savings": savings,
            }
            self.api.call("POST", "/v1/orders", body, STOREFRONT_KEY)
            self.summary.orders += 1

        self.at(placed, place)
        if refund_share is not None:
            share = refund_share

            def give_back() -> None:
                body = {"refund_id": f"{order_id}-refund", "amount": max(1, int(paid["amount"] * share))}
                self.api.call("POST", f"/v1/orders/{order_id}/refunds", body, STOREFRONT_KEY)
                self.summary.refunds += 1

            self.at(refunded, give_back)

    def replay(self) -> None:
        from chalicelib import clock

        try:
            for step in sorted(self.steps):
                clock.set_clock(_fixed(step.at))
                step.run()
        finally:
            clock.set_clock(None)


def _replay_share(part: int, parts: int, now: datetime, webhook_secret: str) -> Summary:
    summary = Summary()
    history = _History(_Api(webhook_secret), now, summary)
    history.plan(part, parts)
    history.replay()
    return summary


def _settle_months(api: _Api, now: datetime, summary: Summary) -> None:
    """Early each month the brand paid each cause most of what it owed at the end of the month
    before, rounded down to 10 units; the current month's donations are still outstanding."""
    from chalicelib import clock

    first = _month_start(now, MONTHS - 1).strftime("%Y-%m")
    report = api.call("GET", f"/v1/reports/donations?from={first}&to={now:%Y-%m}", None, BRAND_KEY)
    owed: dict[tuple[str, str], int] = {}
    try:
        for back in range(MONTHS - 2, -1, -1):
            moment = _month_start(now, back) + timedelta(days=4, hours=10)
            if moment >= now:
                continue
            month, previous = f"{moment:%Y-%m}", f"{_month_start(now, back + 1):%Y-%m}"
            for row in report["data"]:
                if row["period"] == previous:
                    key = (row["cause_id"], row["currency"])
                    owed[key] = owed.get(key, 0) + row["net"]
            clock.set_clock(_fixed(moment))
            for (cause_id, currency), outstanding in sorted(owed.items()):
                amount = (outstanding * 9 // 10) // 1000 * 1000
                if amount <= 0:
                    continue
                body = {
                    "disbursement_id": f"demo-{cause_id}-{currency}-{month}",
                    "cause_id": cause_id,
                    "currency": currency,
                    "amount": amount,
                    "paid_at": _iso(moment),
                    "reference": f"Bank transfer {month} {cause_id}",
                    "receipt_url": f"https://example.org/receipts/{month}/{cause_id}.pdf",
                }
                api.call("POST", "/v1/disbursements", body, BRAND_KEY)
                owed[(cause_id, currency)] -= amount
                summary.disbursements += 1
    finally:
        clock.set_clock(None)


def seed_demo_history(webhook_secret: str, now: datetime | None = None, workers: int = WORKERS) -> Summary:
    """Replay a year of shoppers through the API, each step at its own moment, shoppers shared
    among `workers` processes (each shopper's story stays in one, in time order), then the monthly
    disbursements. Not idempotent: run it once on fresh tables (`make dev` starts with empty ones)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC).replace(microsecond=0)
    summary = Summary()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        shares = [pool.submit(_replay_share, part, workers, now, webhook_secret) for part in range(workers)]
        for share in shares:
            done = share.result()
            for name in ("shoppers", "members", "orders", "refunds", "renewals", "cancellations"):
                setattr(summary, name, getattr(summary, name) + getattr(done, name))
    _settle_months(_Api(webhook_secret), now, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def main() -> None:
    summary = seed_demo_history(os.environ["STRIPE_WEBHOOK_SECRET"])
    print(
        f"[dev] demo history: {summary.shoppers} shoppers ({summary.members} members), "
        f"{summary.orders} orders, {summary.refunds} refunds, {summary.renewals} membership payments, "
        f"{summary.cancellations} cancellations, {summary.disbursements} disbursements "
        f"in {summary.seconds:.0f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
