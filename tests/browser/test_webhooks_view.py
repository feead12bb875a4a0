"""The dashboard's Webhooks view in headless Chromium against a `make dev` stack (no demo history): add an
endpoint (the secret is shown once), see its deliveries and failures, replay one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from localdev.webhook_receiver import Received, WebhookReceiver
from tests.browser.conftest import BRAND_KEY
from tests.e2e.conftest import Stack, dev_stack


class Receiver(WebhookReceiver):
    """Answers every delivery with `status`."""

    def __init__(self, status: int) -> None:
        super().__init__(lambda _: status)

    def deliveries(self, count: int, timeout: float = 10) -> list[Received]:
        got = self.wait_for(count, timeout)
        assert len(got) >= count, f"{len(got)} deliveries, expected {count}"
        return got


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with dev_stack({"SEED": "empty"}) as running:
        yield running


@pytest.fixture
def dashboard(chromium: Any, stack: Stack) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{stack.api}/dashboard")
    tab.get_by_label("Brand API key").fill(BRAND_KEY)
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_role("button", name="Webhooks").click()
    yield tab
    context.close()
    assert errors == []


def emit_into(stack: Stack, customer_ref: str) -> str:
    """Write one event into the stack's outbox, as a fact's transaction will."""
    import boto3

    from chalicelib.domain.events import Moment, event_of, new_event_id
    from chalicelib.store.events import record_of

    now = datetime.now(UTC)
    event = event_of(
        Moment(type="member.joined"), event_id=new_event_id(now), created_at=now, customer_ref=customer_ref,
        sequence=1, membership={"customer_ref": customer_ref, "status": "active"},
    )  # fmt: skip
    client = boto3.client(
        "dynamodb", endpoint_url=stack.dynamodb, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip
    client.put_item(TableName="vip-local-events", Item=record_of(event).serialize())
    return event.id


def add_endpoint(page: Any, url: str) -> str:
    page.get_by_label("Endpoint URL", exact=True).fill(url)
    page.get_by_role("button", name="Add endpoint").click()
    secret: str = page.locator("#wh-secret-value").inner_text()
    page.get_by_role("region", name="Webhook endpoints").get_by_text(url).wait_for()
    return secret


def test_an_endpoint_added_in_the_view_receives_signed_events_and_can_be_replayed(
    dashboard: Any, stack: Stack
) -> None:
    receiver = Receiver(200)
    secret = add_endpoint(dashboard, receiver.url)
    assert secret.startswith("whsec_")

    event_id = emit_into(stack, "browser-shopper-1")
    first = receiver.deliveries(1)[0]
    assert Webhook(secret).verify(first.body, first.headers)["id"] == event_id

    row = dashboard.get_by_role("region", name="Webhook endpoints").locator("tr", has_text=receiver.url)
    row.get_by_role("button", name="Deliveries").click()
    deliveries = dashboard.get_by_role("region", name="Deliveries", exact=True)
    deliveries.locator("tr", has_text=event_id).filter(has_text="succeeded").wait_for()

    deliveries.locator("tr", has_text=event_id).get_by_role("button", name="Replay").click()
    dashboard.get_by_role("status").filter(has_text="Replay queued: 1 event").wait_for()
    again = receiver.deliveries(2)
    assert [request.headers["webhook-id"] for request in again] == [event_id, event_id]


def test_the_secret_is_shown_once(dashboard: Any) -> None:
    receiver = Receiver(200)
    secret = add_endpoint(dashboard, receiver.url)
    dashboard.reload()
    dashboard.get_by_role("button", name="Webhooks").click()
    dashboard.get_by_role("region", name="Webhook endpoints").get_by_text(receiver.url).wait_for()
    assert secret not in dashboard.content()
    assert dashboard.locator("#wh-secret").is_hidden()


def test_failures_are_listed_with_the_receivers_answer(dashboard: Any, stack: Stack) -> None:
    receiver = Receiver(500)
    add_endpoint(dashboard, receiver.url)
    event_id = emit_into(stack, "browser-shopper-2")
    receiver.deliveries(2)  # the first attempt and the immediate retry
    row = dashboard.get_by_role("region", name="Webhook endpoints").locator("tr", has_text=receiver.url)
    row.get_by_role("button", name="Deliveries").click()
    dashboard.get_by_label("Deliveries shown", exact=True).select_option("pending")
    line = dashboard.get_by_role("region", name="Deliveries", exact=True).locator("tr", has_text=event_id)
    line.filter(has_text="500").wait_for()


def test_an_unsafe_url_is_refused_in_the_form(dashboard: Any) -> None:
    dashboard.get_by_label("Endpoint URL", exact=True).fill("https://169.254.169.254/latest/meta-data")
    dashboard.get_by_role("button", name="Add endpoint").click()
    dashboard.get_by_role("alert").filter(has_text="link-local").wait_for()
