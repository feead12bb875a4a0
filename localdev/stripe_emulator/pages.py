"""Hosted pages: Checkout (pay with a test card), the Customer Portal and invoices, as plain HTML forms."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from typing import Any

from localdev.stripe_emulator.account import Stripe
from localdev.stripe_emulator.errors import Obj, StripeError
from localdev.stripe_emulator.resources import checkout, subscriptions
from localdev.stripe_emulator.resources.products import name_of

Page = tuple[int, str, str | None, list[Obj]]


def respond(stripe: Stripe, method: str, path: str, form: dict[str, str]) -> Page:
    """(status, html, redirect location, events to deliver before answering)."""
    routes: list[tuple[str, str, Any]] = [
        ("GET", r"/", _index),
        ("GET", r"/checkout/(?P<id>[^/]+)", _checkout),
        ("POST", r"/checkout/(?P<id>[^/]+)/pay", _pay),
        ("GET", r"/portal/(?P<id>[^/]+)", _portal),
        (
            "POST",
            r"/portal/(?P<id>[^/]+)/subscriptions/(?P<sub>[^/]+)/(?P<action>cancel|resume)",
            _portal_action,
        ),
        ("GET", r"/invoice/(?P<id>[^/]+)", _invoice),
    ]
    for route_method, pattern, view in routes:
        match = re.fullmatch(pattern, path)
        if match and route_method == method:
            try:
                with stripe.lock:
                    result: Page = view(stripe, form, **match.groupdict())
                    return result
            except StripeError as exc:
                return (
                    exc.status,
                    _layout("Stripe emulator", f"<p class=error>{escape(exc.message)}</p>"),
                    None,
                    [],
                )
    return 404, _layout("Not found", "<p>No such page.</p>"), None, []


def _layout(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; color: #1a1f36; }}
.card {{ border: 1px solid #e3e8ee; border-radius: 8px; padding: 1.5rem; }}
button {{ width: 100%; padding: .75rem; margin-top: .75rem; border: 0; border-radius: 6px;
  background: #635bff; color: white; font-size: 1rem; cursor: pointer; }}
button.secondary {{ background: #e3e8ee; color: #1a1f36; }}
.error {{ color: #df1b41; }} .muted {{ color: #697386; font-size: .875rem; }}
</style></head><body><h1>{escape(title)}</h1>{body}
<p class=muted>Local Stripe emulator — test mode, no card network, no real money.</p></body></html>"""


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _date(timestamp: int | None) -> str:
    return "—" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _index(stripe: Stripe, form: dict[str, str]) -> Page:
    body = "<p>This is the local Stripe emulator. The REST API lives under <code>/v1</code>.</p>"
    return 200, _layout("Stripe emulator", body), None, []


def _checkout(stripe: Stripe, form: dict[str, str], id: str, error: str | None = None) -> Page:
    session = stripe.get("checkout_sessions", "checkout.session", id)
    terms = stripe.account.checkout_terms[id]
    price = stripe.account.prices[terms["price"]]
    product = stripe.account.products.get(price["product"], {"name": price["product"]})
    if session["status"] != "open":
        link = (session["success_url"] or "").replace("{CHECKOUT_SESSION_ID}", id)
        body = f"<div class=card><p>This checkout is {escape(session['status'])}.</p>"
        body += f'<p><a href="{escape(link)}">Continue</a></p></div>' if link else "</div>"
        return 200, _layout("Checkout", body), None, []
    trial = terms["subscription_data"].get("trial_period_days")
    due = "0.00 " + price["currency"].upper() if trial else _money(session["amount_total"], price["currency"])
    body = f"""<div class=card>
<p><strong>{escape(product["name"])}</strong></p>
<p>{_money(price["unit_amount"], price["currency"])} every {escape(price["recurring"]["interval"])}
{f"after a {int(trial)}-day trial" if trial else ""}</p>
<p>Due today: <strong id=amount-due>{escape(due)}</strong></p>
{f"<p class=error role=alert>{escape(error)}</p>" if error else ""}
<form method=post action="/checkout/{escape(id)}/pay">
<input type=hidden name=outcome value=succeeded>
<button type=submit id=pay>Pay with test card</button></form>
<form method=post action="/checkout/{escape(id)}/pay">
<input type=hidden name=outcome value=card_declined>
<button type=submit class=secondary id=decline>Pay with a declined test card</button></form>
{f'<p><a href="{escape(session["cancel_url"])}">Cancel and go back</a></p>' if session["cancel_url"] else ""}
</div>"""
    status = 402 if error else 200
    return status, _layout("Checkout", body), None, []


def _pay(stripe: Stripe, form: dict[str, str], id: str) -> Page:
    outcome = form.get("outcome", "succeeded")
    session, events = checkout.complete(stripe, id, outcome)
    if session["status"] == "open":
        status, html, _, _ = _checkout(stripe, form, id, error="Your card was declined.")
        return status, html, None, events
    location = (session["success_url"] or "/").replace("{CHECKOUT_SESSION_ID}", id)
    body = f'<p>Payment complete. <a href="{escape(location)}">Continue</a></p>'
    return 303, _layout("Checkout", body), location, events


def _portal(stripe: Stripe, form: dict[str, str], id: str) -> Page:
    session = stripe.get("portal_sessions", "billing_portal.session", id)
    owned = subscriptions.list_of(stripe, {"customer": session["customer"], "status": "all"})
    rows = []
    for sub in reversed(owned):
        item = sub["items"]["data"][0]
        action = "resume" if sub["cancel_at_period_end"] else "cancel"
        label = "Don't cancel" if sub["cancel_at_period_end"] else "Cancel at period end"
        button = (
            f'<form method=post action="/portal/{escape(id)}/subscriptions/{escape(sub["id"])}/{action}">'
            f"<button type=submit class=secondary>{label}</button></form>"
            if sub["status"] not in ("canceled", "incomplete_expired")
            else ""
        )
        ends = "ends" if sub["cancel_at_period_end"] else "renews"
        rows.append(
            f"<div class=card><p><strong>{escape(name_of(stripe, item['price']))}</strong> — "
            f"{escape(sub['status'])}</p><p class=muted>{ends} {_date(item['current_period_end'])}</p>"
            f"{button}</div>"
        )
    back = session["return_url"]
    body = "".join(rows) or "<p>No subscriptions.</p>"
    if back:
        body += f'<p><a href="{escape(back)}">Return</a></p>'
    return 200, _layout("Your subscriptions", body), None, []


def _portal_action(stripe: Stripe, form: dict[str, str], id: str, sub: str, action: str) -> Page:
    session = stripe.get("portal_sessions", "billing_portal.session", id)
    subscription = stripe.get("subscriptions", "subscription", sub)
    if subscription["customer"] != session["customer"]:
        raise StripeError("That subscription belongs to another customer.", status=403)
    _, events = subscriptions.update(stripe, sub, {"cancel_at_period_end": action == "cancel"})
    location = f"/portal/{id}"
    return 303, _layout("Your subscriptions", f'<a href="{location}">Back</a>'), location, events


def _invoice(stripe: Stripe, form: dict[str, str], id: str) -> Page:
    invoice = stripe.get("invoices", "invoice", id)
    body = (
        f"<div class=card><p>Invoice {escape(invoice['number'] or id)} — {escape(invoice['status'])}</p>"
        f"<p>Amount due {_money(invoice['amount_due'], invoice['currency'])}, "
        f"paid {_money(invoice['amount_paid'], invoice['currency'])}</p></div>"
    )
    return 200, _layout("Invoice", body), None, []
