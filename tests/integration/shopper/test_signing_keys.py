"""Deployed, the signing keys come from the Stripe secret in Secrets Manager, and a rotation reaches warm
containers within minutes: both keys verify during the overlap, and a removed key stops verifying."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import msgspec
import pytest

from chalicelib.errors import ApiError
from chalicelib.services import shopper_tokens

OLD = ("2026-11", "old-shopper-token-key-000000000000000000")
NEW = ("2026-12", "new-shopper-token-key-000000000000000000")


@pytest.fixture
def secret(dynamodb_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Stripe secret on the local moto server, and settings as a deployed stage has them (ARN, no keys)."""
    secrets = boto3.client("secretsmanager", endpoint_url=dynamodb_url)
    created = secrets.create_secret(
        Name="vip-test/stripe",
        SecretString=json.dumps({"api_key": "sk_test_x", "shopper_token_keys": f"{OLD[0]}:{OLD[1]}"}),
    )
    deployed = msgspec.structs.replace(shopper_tokens.key_source(), secret_arn=created["ARN"], keys=())
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", dynamodb_url)
    with shopper_tokens.use_key_source(deployed):
        yield lambda keys: secrets.put_secret_value(
            SecretId=created["ARN"],
            SecretString=json.dumps({"api_key": "sk_test_x", "shopper_token_keys": keys}),
        )


def test_tokens_are_signed_with_the_first_key_of_the_secret(secret: Any) -> None:
    token = shopper_tokens.mint("ada").token
    assert jwt.get_unverified_header(token)["kid"] == OLD[0]
    assert shopper_tokens.verify(token).customer_ref == "ada"


def test_a_rotation_signs_with_the_new_key_and_verifies_both_until_the_old_is_removed(secret: Any) -> None:
    before = shopper_tokens.mint("ada").token
    secret(f"{NEW[0]}:{NEW[1]},{OLD[0]}:{OLD[1]}")
    shopper_tokens.invalidate_cache()  # what KEYS_TTL_SECONDS does on its own
    after = shopper_tokens.mint("ada").token
    assert jwt.get_unverified_header(after)["kid"] == NEW[0]
    assert shopper_tokens.verify(before).kid == OLD[0] and shopper_tokens.verify(after).kid == NEW[0]
    secret(f"{NEW[0]}:{NEW[1]}")
    shopper_tokens.invalidate_cache()
    with pytest.raises(ApiError) as refused:
        shopper_tokens.verify(before)
    assert refused.value.status == 401
    assert shopper_tokens.verify(after).customer_ref == "ada"


def test_no_key_configured_is_an_upstream_error_not_an_unsigned_token(secret: Any) -> None:
    secret("")
    shopper_tokens.invalidate_cache()
    with pytest.raises(ApiError) as failed:
        shopper_tokens.mint("ada")
    assert failed.value.status == 502
