"""Delivery over real HTTP: retries with the same webhook-id, isolation between endpoints, rotation,
replay, and the signatures checked by the reference Standard Webhooks receiver."""

from __future__ import annotations

import json
import time
from typing import Any

from standardwebhooks import Webhook

from tests.integration.events.conftest import emit, stream_records


def deliveries(brand: Any, endpoint_id: str, **query: str) -> list[dict[str, Any]]:
    suffix = "&".join(f"{k}={v}" for k, v in query.items())
    response = brand.call("GET", f"/v1/webhook_endpoints/{endpoint_id}/deliveries?{suffix}")
    assert response.status_code == 200, response.body
    data: list[dict[str, Any]] = json.loads(response.body)["data"]
    return data


def wait_for_status(brand: Any, endpoint_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = deliveries(brand, endpoint_id)
        if found and found[0]["status"] == status:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {status} delivery: {deliveries(brand, endpoint_id)}")


def test_a_new_event_is_delivered_signed_within_seconds(brand: Any, receivers: Any, driver: Any) -> None:
    receiver = receivers()
    endpoint = brand.register(receiver.url, ["member.joined"])
    event = emit("member.joined")
    (got,) = receiver.wait_for(1, timeout=5)
    assert got.headers["webhook-id"] == event.id
    assert got.headers["content-type"] == "application/json"
    assert Webhook(endpoint["secret"]).verify(got.body, got.headers)["id"] == event.id
    delivery = wait_for_status(brand, endpoint["id"], "succeeded")
    assert (delivery["attempts"], delivery["last_status_code"], delivery["next_attempt_at"]) == (1, 200, None)


def test_a_receiver_failing_twice_gets_the_same_webhook_id_three_times(
    brand: Any, receivers: Any, driver: Any
) -> None:
    receiver = receivers(statuses=[500, 500])
    endpoint = brand.register(receiver.url)
    event = emit()
    got = receiver.wait_for(3, timeout=15)
    assert [r.headers["webhook-id"] for r in got] == [event.id] * 3
    # Retries come at once, then 5 s after the attempt before.
    assert got[2].at - got[1].at >= 4.5
    delivery = wait_for_status(brand, endpoint["id"], "succeeded")
    assert (delivery["attempts"], delivery["last_status_code"]) == (3, 200)


def test_a_failed_attempt_is_listed_pending_with_its_next_attempt(
    brand: Any, receivers: Any, driver: Any
) -> None:
    receiver = receivers(statuses=[503, 503, 503])
    endpoint = brand.register(receiver.url)
    emit()
    receiver.wait_for(2, timeout=5)
    time.sleep(0.5)
    (pending,) = deliveries(brand, endpoint["id"], status="pending")
    assert pending["attempts"] == 2 and pending["last_status_code"] == 503
    assert pending["next_attempt_at"] is not None
    assert deliveries(brand, endpoint["id"], status="succeeded") == []


def test_a_hung_receiver_delays_no_other_endpoint(brand: Any, receivers: Any, driver: Any) -> None:
    hung, healthy = receivers(hang=6), receivers()
    brand.register(hung.url)
    brand.register(healthy.url)
    started = time.time()
    first = emit(sequence=1)
    hung.wait_for(1, timeout=5)
    second = emit(sequence=2)
    got = healthy.wait_for(2, timeout=5)
    assert [r.headers["webhook-id"] for r in got] == [first.id, second.id]
    # Both arrived while the hung receiver still held its first request (it answers after 6 s).
    assert got[1].at - started < 4


def test_an_endpoint_gets_only_the_types_it_chose_and_a_disabled_one_nothing(
    brand: Any, receivers: Any, driver: Any
) -> None:
    joined, disabled, everything = receivers(), receivers(), receivers()
    brand.register(joined.url, ["member.joined"])
    off = brand.register(disabled.url)
    assert (
        brand.call("PATCH", f"/v1/webhook_endpoints/{off['id']}", {"status": "disabled"}).status_code == 200
    )
    brand.register(everything.url)
    emit("member.ended", reason="canceled")
    emit("member.joined")
    assert len(everything.wait_for(2, timeout=5)) == 2
    time.sleep(0.5)
    assert [json.loads(r.body)["type"] for r in joined.received] == ["member.joined"]
    assert disabled.received == []


def test_rotation_signs_with_both_secrets_and_both_verify(brand: Any, receivers: Any, driver: Any) -> None:
    receiver = receivers()
    endpoint = brand.register(receiver.url)
    rotated = brand.call("POST", f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret")
    assert rotated.status_code == 200
    new_secret = json.loads(rotated.body)["secret"]
    assert new_secret.startswith("whsec_") and new_secret != endpoint["secret"]
    emit()
    (got,) = receiver.wait_for(1, timeout=5)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint["secret"], new_secret):
        assert Webhook(secret).verify(got.body, got.headers)["type"] == "member.joined"


def test_replay_sends_the_same_event_again_by_id_and_by_window(
    brand: Any, receivers: Any, driver: Any
) -> None:
    receiver = receivers()
    endpoint = brand.register(receiver.url)
    event = emit()
    receiver.wait_for(1, timeout=5)
    wait_for_status(brand, endpoint["id"], "succeeded")
    by_id = brand.call("POST", f"/v1/webhook_endpoints/{endpoint['id']}/replay", {"event_ids": [event.id]})
    assert (by_id.status_code, json.loads(by_id.body)) == (202, {"queued": 1})
    since = event.created_at.isoformat().replace("+00:00", "Z")
    by_window = brand.call("POST", f"/v1/webhook_endpoints/{endpoint['id']}/replay", {"since": since})
    assert (by_window.status_code, json.loads(by_window.body)) == (202, {"queued": 1})
    got = receiver.wait_for(3, timeout=5)
    assert [r.headers["webhook-id"] for r in got] == [event.id] * 3


def test_replay_of_an_unknown_event_is_refused(brand: Any, receivers: Any) -> None:
    endpoint = brand.register(receivers().url)
    response = brand.call(
        "POST", f"/v1/webhook_endpoints/{endpoint['id']}/replay", {"event_ids": ["evt_000000000000nothere"]}
    )
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["param"] == "event_ids"


def test_tampered_old_or_wrongly_keyed_deliveries_fail_the_reference_receiver(
    brand: Any, receivers: Any, driver: Any
) -> None:
    import pytest
    from standardwebhooks.webhooks import WebhookVerificationError

    from chalicelib.outbound.sender import signed_headers
    from chalicelib.services.webhook_endpoints import new_secret

    receiver = receivers()
    endpoint = brand.register(receiver.url)
    emit()
    (got,) = receiver.wait_for(1, timeout=5)
    webhook = Webhook(endpoint["secret"])
    with pytest.raises(WebhookVerificationError):
        webhook.verify(got.body.replace(b"shopper-1", b"shopper-2"), got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)
    from datetime import UTC, datetime, timedelta

    old = datetime.now(UTC) - timedelta(minutes=10)
    stale = signed_headers([endpoint["secret"]], got.headers["webhook-id"], old, got.body.decode())
    with pytest.raises(WebhookVerificationError):
        webhook.verify(got.body, stale)


def test_ops_listen_prints_verified_events_and_refuses_others(brand: Any, driver: Any) -> None:
    import io
    import threading

    import requests

    from ops.events import make_server

    printed = io.StringIO()
    endpoint = brand.register("https://hooks.example.com/pending")
    server = make_server("127.0.0.1", 0, [endpoint["secret"]], out=printed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert brand.call("PATCH", f"/v1/webhook_endpoints/{endpoint['id']}", {"url": url}).status_code == 200
        event = emit()
        wait_for_status(brand, endpoint["id"], "succeeded")
        assert json.loads(printed.getvalue())["id"] == event.id
        forged = requests.post(url, data=b"{}", headers={"webhook-id": "x", "webhook-timestamp": "1",
                                                         "webhook-signature": "v1,AAAA"}, timeout=5)  # fmt: skip
        assert forged.status_code == 400
    finally:
        server.shutdown()
        server.server_close()


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_timeout() -> None:
    """The timeout bounds the whole attempt, not each read."""
    import socket
    import threading

    from chalicelib.outbound.sender import post

    listener = socket.create_server(("127.0.0.1", 0))

    def drip() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        try:
            for _ in range(40):
                conn.sendall(b"H")
                time.sleep(0.25)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    outcome = post(f"http://127.0.0.1:{listener.getsockname()[1]}/", "{}", {}, allow_loopback=True, timeout=2)
    assert not outcome.delivered and time.monotonic() - started < 3.5
    listener.close()


def test_a_delivery_queued_before_its_endpoint_was_disabled_is_failed_then_replayable(
    brand: Any, receivers: Any
) -> None:
    from chalicelib.api.event_functions import deliver_webhooks, fan_out_events
    from chalicelib.outbound import queue

    receiver = receivers()
    endpoint = brand.register(receiver.url)
    event = emit()
    fan_out_events({"Records": stream_records()}, None)
    path = f"/v1/webhook_endpoints/{endpoint['id']}"
    assert brand.call("PATCH", path, {"status": "disabled"}).status_code == 200
    (message,) = queue.sqs_client().receive_message(QueueUrl=queue.queue_url())["Messages"]
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
    }

    assert deliver_webhooks({"Records": [record]}, None) == {"batchItemFailures": []}

    assert receiver.received == []
    (failed,) = deliveries(brand, endpoint["id"], status="failed")
    assert (failed["event_id"], failed["attempts"], failed["next_attempt_at"]) == (event.id, 0, None)
