"""One botocore session per container: every model, every transaction and the eligibility path share it,
and importing the app builds none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import STOREFRONT_KEY

ROOT = Path(__file__).resolve().parents[3]

# A fresh interpreter is a fresh container: count what it builds while serving a few requests.
CONTAINER = """
import gc, json, sys
import botocore.session

def sessions():
    return sum(isinstance(o, botocore.session.Session) for o in gc.get_objects())

import app
after_import = sessions()
from chalice.test import Client
from chalicelib import aws
from chalicelib.store.base import all_models, shared_connection

headers = {"Authorization": "Bearer " + sys.argv[1], "Content-Type": "application/json"}
cart = {"customer_ref": "ada", "currency": "usd", "items": [{"sku": "tee", "unit_amount": 2500, "quantity": 1}]}
order = {"order_id": "o-1", "customer_ref": "ada", "currency": "usd", "amount": 2500}
with Client(app.app) as client:
    statuses = [
        client.http.post("/v1/eligibility", body=json.dumps(cart), headers=headers).status_code,
        client.http.post("/v1/orders", body=json.dumps(order), headers=headers).status_code,
        client.http.get("/v1/plans").status_code,
        client.http.get("/v1/members/ada", headers=headers).status_code,
    ]
print(json.dumps({
    "after_import": after_import,
    "sessions": sessions(),
    "statuses": statuses,
    "clients": sorted(c.meta.service_model.service_name for c in aws.built_clients()),
    "models_on_shared_connection": all(
        m._get_connection().connection is shared_connection() for m in all_models()
    ),
}))
"""


def _serve_a_few_requests() -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", CONTAINER, STOREFRONT_KEY],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_a_container_builds_one_botocore_session_and_one_dynamodb_client_per_patience(
    keys: dict[str, str],
) -> None:
    container = _serve_a_few_requests()

    assert container["statuses"] == [200, 201, 200, 404]
    assert container["after_import"] == 0
    assert container["sessions"] == 1
    # The ordinary limits and the eligibility hot path's 1 s limits; nothing built per model.
    assert container["clients"] == ["dynamodb", "dynamodb"]
    assert container["models_on_shared_connection"] is True
