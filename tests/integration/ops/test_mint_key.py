"""The operator command mints a key that the API accepts."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from ops import mint_key
from tests.helpers import auth


def test_mint_key_prints_a_working_brand_key(
    client: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests' DynamoDB plays `make dev`'s; monkeypatch restores the environment the command sets.
    for name in ("STAGE", "TABLE_PREFIX", "DYNAMODB_HOST", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, os.environ[name])

    assert mint_key.main(["--stage", "local", "--role", "brand", "--name", "Brand team"]) == 0

    secret = capsys.readouterr().out.split("secret: ")[1].strip()
    response = client.http.post("/v1/api-keys", body=json.dumps({"role": "storefront", "name": "shop"}),
                                headers=auth(secret))  # fmt: skip
    assert response.status_code == 201
