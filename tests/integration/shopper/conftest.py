"""A shopper in the browser: the brand's server mints a token, the page calls `/v1/shopper/*` with it."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import STOREFRONT_KEY, auth

STOREFRONT = "https://shop.example.com"
CURRENT_KEY = ("test-2", "test-shopper-token-key-current-0000000")
PREVIOUS_KEY = ("test-1", "test-shopper-token-key-previous-000000")


def mint(client: Any, customer_ref: str, **body: Any) -> str:
    response = client.http.post(
        f"/v1/members/{customer_ref}/session", body=json.dumps(body), headers=auth(STOREFRONT_KEY)
    )
    assert response.status_code == 201, response.body
    token: str = json.loads(response.body)["token"]
    return token


def as_shopper(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}
