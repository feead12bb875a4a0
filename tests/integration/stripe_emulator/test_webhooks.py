"""Webhooks: signed as Stripe signs them, delivered to the configured URL in order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from localdev.stripe_emulator import Emulator
from localdev.stripe_emulator.signing import sign_payload
from tests.helpers import WEBHOOK_SECRET


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: list[tuple[bytes, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/webhooks/stripe"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((body, self.headers["Stripe-Signature"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(emulator: Emulator) -> Iterator[Receiver]:
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emulator.set_webhook_url(server.url)
    yield server
    emulator.set_webhook_url(None)
    server.shutdown()
    server.server_close()


def test_control_calls_deliver_their_events_before_returning(
    emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    before = len(emulator.events)

    emulator.complete_checkout(checkout.id)

    delivered = [stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET) for body, sig in receiver.received]
    expected = [e["id"] for e in emulator.events_since(before)]
    assert [e.id for e in delivered][-len(expected) :] == expected
    assert delivered[-1].type == "checkout.session.completed"


def test_every_delivered_webhook_verifies_with_stripe_python(
    emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    emulator.advance(subscription_id, "payment_failed")

    assert receiver.received
    for body, signature in receiver.received:
        event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET, tolerance=300)
        assert event.object == "event"
        assert event.api_version == "2026-10-28.endive"


def test_a_webhook_signed_with_another_secret_does_not_verify(
    emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    emulator.complete_checkout(checkout.id)
    body, signature = receiver.received[-1]

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_other")


def test_sign_payload_matches_stripe_pythons_scheme() -> None:
    payload = b'{"id": "evt_1", "object": "event"}'
    header = sign_payload(payload, "whsec_abc", 1_700_000_000)

    timestamp, v1 = (part.split("=", 1)[1] for part in header.split(","))
    expected = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload.decode()}", "whsec_abc")
    assert (timestamp, v1) == ("1700000000", expected)


def test_api_calls_deliver_their_events_after_answering(
    stripe_client: stripe.StripeClient, emulator: Emulator, receiver: Receiver
) -> None:
    import time

    customer = stripe_client.v1.customers.create(params={"email": "later@example.com"})

    deadline = time.monotonic() + 5
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.02)
    event = stripe.Webhook.construct_event(*receiver.received[-1], WEBHOOK_SECRET)
    assert (event.type, event.data.object.id) == ("customer.created", customer.id)
    assert event.request.id is not None


def _delivered_ids(receiver: Receiver) -> list[str]:
    return [stripe.Webhook.construct_event(body, sig, WEBHOOK_SECRET).id for body, sig in receiver.received]


def test_while_webhooks_are_disabled_events_are_created_and_listed_but_not_delivered(
    stripe_client: stripe.StripeClient, emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    assert emulator.set_webhooks(False)["enabled"] is False
    before = len(receiver.received)

    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    emulator.advance(subscription_id, "paid")

    assert len(receiver.received) == before
    listed = stripe_client.v1.events.list(params={"type": "invoice.paid", "limit": 100})
    assert [e.data.object.parent.subscription_details.subscription for e in listed.data] == [
        subscription_id,
        subscription_id,
    ]


def test_undelivered_events_are_listed_with_delivery_success_false(
    stripe_client: stripe.StripeClient, emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    emulator.complete_checkout(checkout.id)
    emulator.set_webhooks(False)

    lost = stripe_client.v1.customers.create(params={"email": "lost@example.com"})

    pending = stripe_client.v1.events.list(params={"delivery_success": False, "limit": 100}).data
    succeeded = stripe_client.v1.events.list(params={"delivery_success": True, "limit": 100}).data
    assert {e.id for e in succeeded} == set(_delivered_ids(receiver))
    assert lost.id in {e.data.object.id for e in pending}
    assert {e.id for e in pending} == {e["id"] for e in emulator.events} - set(_delivered_ids(receiver))


def test_delivering_an_event_sends_it_now_even_while_webhooks_are_disabled(
    emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    emulator.set_webhooks(False)
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    emulator.advance(subscription_id, "paid")
    renewal = [e for e in emulator.events if e["type"] == "invoice.paid"][-1]

    answer = emulator.deliver(renewal["id"])

    assert answer == {"id": renewal["id"], "object": "event_delivery", "delivered": True, "status": 200}
    assert _delivered_ids(receiver) == [renewal["id"]]
    body, signature = receiver.received[-1]
    assert (
        stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET, tolerance=300).type == "invoice.paid"
    )


def test_delivering_an_event_again_repeats_it(emulator: Emulator, checkout: Any, receiver: Receiver) -> None:
    before = len(emulator.events)
    emulator.complete_checkout(checkout.id)
    first = emulator.events_since(before)[0]["id"]
    sent_before = _delivered_ids(receiver).count(first)

    emulator.deliver(first)
    emulator.deliver(first)

    assert sent_before == 1
    assert _delivered_ids(receiver).count(first) == 3


def test_turning_webhooks_back_on_delivers_new_events_but_not_the_lost_ones(
    emulator: Emulator, checkout: Any, receiver: Receiver
) -> None:
    emulator.set_webhooks(False)
    subscription_id = emulator.complete_checkout(checkout.id)["subscription"]
    lost = {e["id"] for e in emulator.events}

    emulator.set_webhooks(True)
    before = len(emulator.events)
    emulator.advance(subscription_id, "paid")

    assert _delivered_ids(receiver) == [e["id"] for e in emulator.events_since(before)]
    assert lost.isdisjoint(_delivered_ids(receiver))


def test_resetting_the_emulator_turns_webhooks_back_on(emulator: Emulator) -> None:
    emulator.set_webhooks(False)

    emulator.reset()

    assert emulator.delivery.enabled is True


def test_delivering_an_unknown_event_is_a_404(emulator: Emulator, receiver: Receiver) -> None:
    answer = emulator.deliver("evt_missing")

    assert answer["error"]["code"] == "resource_missing"
    assert receiver.received == []


def test_delivering_without_a_webhook_url_is_refused(emulator: Emulator, checkout: Any) -> None:
    emulator.complete_checkout(checkout.id)

    answer = emulator.deliver(emulator.events[0]["id"])

    assert answer["error"]["message"].startswith("No webhook URL")


def test_the_webhooks_switch_needs_a_boolean(emulator: Emulator) -> None:
    answer = emulator._control("/_emulator/webhooks", {"enabled": "no"})

    assert (answer["error"]["param"], answer["error"]["code"]) == ("enabled", "parameter_invalid")
    assert emulator.delivery.enabled is True
