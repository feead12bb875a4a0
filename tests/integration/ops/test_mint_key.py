"""The operator command mints a key that the API accepts."""

from __future__ import annotations

import json
from typing import Any

from ops import mint_key
from tests.helpers import auth


def test_mint_key_prints_a_working_brand_key(client: Any, capsys: Any, ops_on_test_tables: None) -> None:
    assert mint_key.main(["--stage", "local", "--role", "brand", "--name", "Brand team"]) == 0

    secret = capsys.readouterr().out.split("secret: ")[1].strip()
    response = client.http.post("/v1/api-keys", body=json.dumps({"role": "storefront", "name": "shop"}),
                                headers=auth(secret))  # fmt: skip
    assert response.status_code == 201
