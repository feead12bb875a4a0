"""API keys: mint (the secret is shown once) and revoke."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.routing import BRAND, Call, Example, Reply, endpoint
from chalicelib.api.schemas import ApiKeyIn, ApiKeyOut
from chalicelib.services import api_keys

api_keys_api = Blueprint(__name__)


@endpoint(
    api_keys_api, "POST", "/v1/api-keys", summary="Mint an API key (the secret is shown only in this answer)",
    tag="admin", roles=BRAND, body=ApiKeyIn, response=ApiKeyOut, status=201, errors=(400,),
    # The answer holds a secret that is stored nowhere, so it is never kept for replay either.
    idempotent=False,
    example=Example(
        request={"role": "storefront", "name": "Shopify storefront"},
        response={
            "key_id": "key_7Hq2xR9vL3mN",
            "role": "storefront",
            "name": "Shopify storefront",
            "secret": "vip_sk_4f9d2c7b1e8a6f3d5c2b9a7e4d1f8c6b",
        },
    ),
    description="The secret is stored only as a hash, so `Idempotency-Key` replays are not offered here: "
    "a retry mints a second key (revoke the unused one).",
)  # fmt: skip
def mint(call: Call[ApiKeyIn, Any]) -> ApiKeyOut:
    minted = api_keys.mint_key(call.body.role, call.body.name)
    return ApiKeyOut(key_id=minted.key_id, role=minted.role, name=minted.name, secret=minted.secret)


@endpoint(
    api_keys_api, "DELETE", "/v1/api-keys/{key_id}", summary="Revoke an API key (effective within 60 s)",
    tag="admin", roles=BRAND, status=204, errors=(404,), example=Example(path={"key_id": "key_7Hq2xR9vL3mN"}),
)  # fmt: skip
def revoke(call: Call[Any, Any]) -> Reply:
    api_keys.revoke_key(call.path["key_id"])
    return Reply(None, status=204)
