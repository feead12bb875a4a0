"""Webhook endpoint management and the event list (brand key)."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from typing import Any

import pytest

from tests.helpers import STOREFRONT_KEY, auth
from tests.integration.events.conftest import emit
from tests.unit.test_webhook_urls import REFUSED_URLS


def error_of(response: Any) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(response.body)["error"]
    return detail


def test_create_shows_the_secret_once_and_lists_without_it(brand: Any) -> None:
    response = brand.call(
        "POST", "/v1/webhook_endpoints",
        {"url": "https://hooks.example.com/vip", "events": ["member.joined"], "description": "Klaviyo"},
    )  # fmt: skip
    assert response.status_code == 201
    created = json.loads(response.body)
    assert created["secret"].startswith("whsec_")
    assert {k: created[k] for k in ("url", "events", "status", "description")} == {
        "url": "https://hooks.example.com/vip", "events": ["member.joined"], "status": "enabled",
        "description": "Klaviyo",
    }  # fmt: skip
    listed = json.loads(brand.call("GET", "/v1/webhook_endpoints").body)
    assert listed["has_more"] is False
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    assert "secret" not in listed["data"][0]
    fetched = json.loads(brand.call("GET", f"/v1/webhook_endpoints/{created['id']}").body)
    assert "secret" not in fetched and fetched["url"] == created["url"]


def test_the_secret_is_32_random_bytes_in_standard_webhooks_form(brand: Any) -> None:
    import base64

    first, second = (brand.register("https://hooks.example.com/a")["secret"] for _ in range(2))
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32
    assert first != second


def test_unknown_event_types_are_refused_naming_events(brand: Any) -> None:
    response = brand.call(
        "POST", "/v1/webhook_endpoints", {"url": "https://hooks.example.com/x", "events": ["member.exploded"]}
    )
    assert response.status_code == 400
    assert error_of(response)["param"] == "events"
    assert "member.exploded" in error_of(response)["message"]
    assert json.loads(brand.call("GET", "/v1/webhook_endpoints").body)["data"] == []


@pytest.mark.parametrize("url", REFUSED_URLS.values(), ids=REFUSED_URLS.keys())
def test_unsafe_urls_are_refused_at_registration(brand: Any, url: str) -> None:
    response = brand.call("POST", "/v1/webhook_endpoints", {"url": url, "events": ["*"]})
    assert response.status_code == 400
    detail = error_of(response)
    assert detail["param"] == "url"
    assert detail["code"] in ("invalid_url", "invalid_field")  # the schema refuses non-http(s) schemes first


def test_patch_changes_fields_and_refuses_an_unsafe_url(brand: Any) -> None:
    endpoint = brand.register("https://hooks.example.com/a")
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    changed = brand.call(
        "PATCH", path, {"events": ["member.ended"], "status": "disabled", "description": "x"}
    )
    assert changed.status_code == 200
    body = json.loads(changed.body)
    assert (body["events"], body["status"], body["description"]) == (["member.ended"], "disabled", "x")
    refused = brand.call("PATCH", path, {"url": "https://169.254.169.254/latest"})
    assert refused.status_code == 400 and error_of(refused)["code"] == "invalid_url"
    assert json.loads(brand.call("GET", path).body)["url"] == "https://hooks.example.com/a"


def test_delete_then_get_is_404(brand: Any) -> None:
    endpoint = brand.register("https://hooks.example.com/a")
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    assert brand.call("DELETE", path).status_code == 204
    missing = brand.call("GET", path)
    assert missing.status_code == 404 and error_of(missing)["param"] == "id"
    assert brand.call("DELETE", path).status_code == 404


def test_storefront_keys_cannot_manage_endpoints(client: Any, keys: dict[str, str]) -> None:
    response = client.http.get("/v1/webhook_endpoints", headers=auth(STOREFRONT_KEY))
    assert response.status_code == 403


def test_events_are_listed_newest_first_with_filters_and_a_cursor(brand: Any) -> None:
    from chalicelib import clock

    now = clock.now()
    first = emit("member.joined", "shopper-1", 1, at=now - timedelta(days=2))
    second = emit("member.joined", "shopper-2", 1, at=now - timedelta(hours=1))
    third = emit("member.ended", "shopper-1", 2, at=now)

    def ids(query: str) -> tuple[list[str], bool]:
        response = brand.call("GET", f"/v1/events?{query}")
        assert response.status_code == 200, response.body
        body = json.loads(response.body)
        return [e["id"] for e in body["data"]], body["has_more"]

    assert ids("") == ([third.id, second.id, first.id], False)
    assert ids("type=member.joined") == ([second.id, first.id], False)
    assert ids("customer_ref=shopper-1") == ([third.id, first.id], False)
    assert ids("limit=1") == ([third.id], True)
    assert ids(f"limit=2&starting_after={third.id}") == ([second.id, first.id], False)
    since = (now - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    assert ids(f"since={since}") == ([third.id, second.id], False)
    assert brand.call("GET", "/v1/events?type=member.exploded").status_code == 400
    future = (now + timedelta(days=400)).isoformat().replace("+00:00", "Z")
    assert ids(f"since={future}") == ([], False)
    assert ids(f"since={future}&customer_ref=shopper-1") == ([], False)


def test_a_delivery_to_a_name_that_now_resolves_inward_fails_without_calling_it(
    brand: Any, receivers: Any, driver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = receivers()
    port = receiver.url.split(":")[2].split("/")[0]
    endpoint = brand.register(f"https://hooks.example.com:{port}/hooks")
    real = socket.getaddrinfo

    def rebound(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.example.com":  # registration passed; now the name points at loopback
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    emit()
    import time

    deadline = time.monotonic() + 5
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not (found and found[0]["attempts"] >= 1):
        found = json.loads(brand.call("GET", f"/v1/webhook_endpoints/{endpoint['id']}/deliveries").body)[
            "data"
        ]
        time.sleep(0.1)
    assert found[0]["attempts"] >= 1 and found[0]["last_status_code"] is None
    assert found[0]["status"] == "pending"
    assert receiver.received == []
